import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { openStore, type OpenStoreOptions } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/types.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';

/** One dialect under test: fresh databases for each test, and a leak check at the end. */
export interface StoreHarness {
  readonly dialect: 'sqlite' | 'postgres';
  /** Start what the dialect needs (a PostgreSQL server). */
  setup(): Promise<void>;
  /** The URL of a new, empty database. */
  freshUrl(): Promise<string>;
  /** Open a store on `url` (with `options`, such as the per task run caps), closed when the test ends. */
  open(t: TestContext, url: string, options?: StoreOptions): Promise<Store>;
  /** Open a store on a new, empty database, closed when the test ends. */
  fresh(t: TestContext, options?: StoreOptions): Promise<Store>;
  /** Stop everything and assert nothing is left: no client connections, no temp dir. */
  teardown(): Promise<void>;
}

/** What a test may set when it opens a store. */
export type StoreOptions = Pick<OpenStoreOptions, 'limits'>;

function tracked(open: () => Promise<string>): Pick<StoreHarness, 'freshUrl' | 'open' | 'fresh'> {
  const openOn = async (t: TestContext, url: string, options: StoreOptions = {}): Promise<Store> => {
    const store = await openStore({ url, ...options });
    t.after(() => store.close());
    return store;
  };
  return {
    freshUrl: open,
    open: openOn,
    fresh: async (t, options) => openOn(t, await open(), options),
  };
}

/** SQLite files in a temp dir; the leak check is that every file's WAL was checkpointed away on close. */
export function sqliteHarness(): StoreHarness {
  let dir: string | undefined;
  const files: string[] = [];
  let count = 0;
  return {
    dialect: 'sqlite',
    async setup() {
      dir = await mkdtemp(join(tmpdir(), 'pilotage-store-'));
    },
    ...tracked(() => {
      assert.ok(dir !== undefined, 'setup() first');
      const file = join(dir, `nested-${++count}`, 'pilotage.db');
      files.push(file);
      return Promise.resolve(file);
    }),
    async teardown() {
      try {
        for (const file of files) {
          if (existsSync(file)) assert.ok(!existsSync(`${file}-wal`), `${file} was left open`);
        }
      } finally {
        if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      }
      assert.ok(dir === undefined || !existsSync(dir), 'temp dir removed');
    },
  };
}

/** A throwaway PostgreSQL server with one database per test. */
export function postgresHarness(): StoreHarness {
  let server: PostgresServer | undefined;
  let count = 0;
  return {
    dialect: 'postgres',
    async setup() {
      server = await startPostgres();
    },
    ...tracked(() => {
      assert.ok(server !== undefined, 'setup() first');
      return server.createDatabase(`store_${++count}`);
    }),
    async teardown() {
      if (server === undefined) return;
      try {
        // a closed pool ends its connections; the server notices a moment later
        let open = await server.clientConnections();
        for (let i = 0; i < 50 && open > 0; i++) {
          await new Promise((r) => setTimeout(r, 50));
          open = await server.clientConnections();
        }
        assert.equal(open, 0, 'every pool was ended: no client connections left');
      } finally {
        await server.stop();
      }
      assert.ok(!existsSync(server.dir), 'postgres temp dir removed');
    },
  };
}
