import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { postgresForSuite, startPostgres, type PostgresServer } from '../../../test/support/postgres.js';
import type { Change } from '../types.js';
import { createPgChangeFeed } from './pg-change-feed.js';

/**
 * When the PostgreSQL change feed sends what it gathered, on a real server: live-view changes
 * alone wait (a busy replica sent a notification every 10 ms for them), control changes do not,
 * and take the live ones pending with them, in order.
 */

const LIVE_FLUSH_MS = 1500;

if (await postgresForSuite()) {
  describe('PostgreSQL change feed: when it sends', () => {
    let server: PostgresServer;
    let pool: Kysely<unknown>;
    before(async () => {
      server = await startPostgres();
      pool = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: server.url }) }) });
    });
    after(async () => {
      await pool?.destroy();
      await server?.stop();
    });

    const feed = () =>
      createPgChangeFeed({
        db: pool,
        liveFlushMs: LIVE_FLUSH_MS,
        connect: async () => {
          const client = new pg.Client({ connectionString: server.url });
          client.on('error', () => undefined);
          await client.connect();
          return client;
        },
      });

    it('holds live-view changes alone; a control change takes them along at once, in order', async (t) => {
      const writer = feed();
      const reader = feed();
      t.after(() => Promise.all([writer.close(), reader.close()]));
      const seen: { change: Change; at: number }[] = [];
      const off = reader.subscribe((change) => {
        if (change.kind !== 'resync') seen.push({ change, at: performance.now() });
      });
      t.after(off);
      const until = async (done: () => boolean, what: string): Promise<void> => {
        const end = Date.now() + 10_000;
        while (!done()) {
          if (Date.now() > end) throw new Error(`timed out: ${what}`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      };
      // the listening connection opens with the first subscriber: publish until a change arrives
      for (const end = Date.now() + 10_000; seen.length === 0 && Date.now() < end;) {
        writer.publish({ kind: 'slot' });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(seen.length > 0, 'the reader listens');
      seen.length = 0;

      let sent = performance.now();
      writer.publish({ kind: 'task', runId: 'r1', taskRunId: 't1' });
      await until(() => seen.length === 1, 'the live change arrives');
      assert.deepEqual(seen[0]!.change, { kind: 'task', runId: 'r1', taskRunId: 't1' });
      assert.ok(seen[0]!.at - sent >= LIVE_FLUSH_MS * 0.8, `held ${seen[0]!.at - sent} ms`);

      seen.length = 0;
      sent = performance.now();
      writer.publish({ kind: 'run', runId: 'r2' });
      writer.publish({ kind: 'queued', runId: 'r3' });
      await until(() => seen.length === 2, 'both arrive');
      assert.deepEqual(
        seen.map((s) => s.change),
        [
          { kind: 'run', runId: 'r2' },
          { kind: 'queued', runId: 'r3' },
        ],
      );
      assert.ok(seen[1]!.at - sent < LIVE_FLUSH_MS / 2, `sent with the control change: ${seen[1]!.at - sent} ms`);
    });
  });
}
