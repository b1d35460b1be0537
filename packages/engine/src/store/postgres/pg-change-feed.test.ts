import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kysely, PostgresDialect, type KyselyPlugin } from 'kysely';
import pg from 'pg';
import { postgresForSuite, startPostgres, type PostgresServer } from '../../../test/support/postgres.js';
import type { Change } from '../types.js';
import { createPgChangeFeed } from './pg-change-feed.js';

/**
 * When the PostgreSQL change feed sends what it gathered, on a real server: live-view changes
 * alone wait (a busy replica sent a notification every 10 ms for them), control changes do not,
 * and take the live ones pending with them, in order. A send that fails is sent again, before
 * what came after it; too many kept become one `resync`.
 */

const LIVE_FLUSH_MS = 1500;

/**
 * A stand-in for a pool connection lost under a send: the first `count` statements fail before
 * they reach the server (the listener and every later send are real).
 */
function failingFirst(count: number): KyselyPlugin & { failed: number } {
  return {
    failed: 0,
    transformQuery(args) {
      if (this.failed < count) {
        this.failed += 1;
        throw new Error('connection terminated (stand-in)');
      }
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
}

const until = async (done: () => boolean, what: string): Promise<void> => {
  const end = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

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

    const feed = (more: Partial<Parameters<typeof createPgChangeFeed>[0]> = {}) =>
      createPgChangeFeed({
        db: pool,
        liveFlushMs: LIVE_FLUSH_MS,
        ...more,
        connect: async () => {
          const client = new pg.Client({ connectionString: server.url });
          client.on('error', () => undefined);
          await client.connect();
          return client;
        },
      });

    /** Publish until `seen` shows the reader listens (its connection opens with the first subscriber); empties it. */
    const listening = async (writer: ReturnType<typeof feed>, seen: unknown[]): Promise<void> => {
      for (const end = Date.now() + 10_000; seen.length === 0 && Date.now() < end;) {
        writer.publish({ kind: 'slot' });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(seen.length > 0, 'the reader listens');
      seen.length = 0;
    };

    it('holds live-view changes alone; a control change takes them along at once, in order', async (t) => {
      const writer = feed();
      const reader = feed();
      t.after(() => Promise.all([writer.close(), reader.close()]));
      const seen: { change: Change; at: number }[] = [];
      const off = reader.subscribe((change) => {
        if (change.kind !== 'resync') seen.push({ change, at: performance.now() });
      });
      t.after(off);
      await listening(writer, seen);

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

    it('sends again a batch whose send failed, before what was published meanwhile', async (t) => {
      const fail = failingFirst(2);
      const failingDb = pool.withPlugin(fail);
      const reader = feed();
      const writer = feed({ db: failingDb, retryMs: [50, 100] });
      const probe = feed();
      t.after(() => Promise.all([writer.close(), reader.close(), probe.close()]));
      const seen: Change[] = [];
      t.after(reader.subscribe((change) => seen.push(change)));
      await listening(probe, seen);
      writer.publish({ kind: 'queued', runId: 'r1' });
      // published while the first send fails and waits for its retry
      await until(() => fail.failed >= 1, 'the first send fails');
      writer.publish({ kind: 'freed', runId: 'r2' });
      await until(() => seen.length >= 2, 'both arrive');
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(fail.failed, 2, 'two sends failed');
      assert.deepEqual(seen, [
        { kind: 'queued', runId: 'r1' },
        { kind: 'freed', runId: 'r2' },
      ]);
    });

    it('gives up changes past its limit while sends fail: every subscriber gets one resync', async (t) => {
      const fail = failingFirst(3);
      const writer = feed({ db: pool.withPlugin(fail), retryMs: [50], maxPending: 5 });
      const reader = feed();
      const probe = feed();
      t.after(() => Promise.all([writer.close(), reader.close(), probe.close()]));
      const seen: Change[] = [];
      t.after(reader.subscribe((change) => seen.push(change)));
      await listening(probe, seen);
      for (let i = 0; i < 8; i++) writer.publish({ kind: 'queued', runId: `r${i}` });
      await until(() => seen.length >= 1, 'something arrives');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(seen, [{ kind: 'resync' }]);
      assert.equal(fail.failed, 3);
    });
  });
}
