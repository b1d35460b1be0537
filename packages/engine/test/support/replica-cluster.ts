import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { CLI_BUILT } from './cli.js';
import { findPostgresBinaries, startPostgres, type PostgresServer } from './postgres.js';
import { startServe, stopServe, type ServeProcess } from './serve-process.js';

/** Several `pilotage serve` processes on one throwaway PostgreSQL. */
export interface ReplicaCluster {
  readonly dir: string;
  readonly pg: PostgresServer;
  /** the connection string every replica uses */
  readonly db: string;
  /** the admin token (written by the first replica to start) */
  readonly token: () => string;
  /** the live replica in slot `i`, if started and not killed */
  replica(i: number): ServeProcess | undefined;
  /** the live replicas */
  live(): ServeProcess[];
  /** Start the replica of slot `i` (its own data dir `dir/r<i>`); extra env over the cluster's. */
  start(i: number, env?: Record<string, string>): Promise<ServeProcess>;
  /** `kill -9` the replica of slot `i` and wait until it has exited. */
  kill(i: number): Promise<void>;
  /** A call to any replica's API (slot `i`, default the first live one). */
  api(method: string, path: string, body?: unknown, i?: number): Promise<Response>;
  /** Stop every replica (SIGTERM) and PostgreSQL, remove the folder. Safe to repeat. */
  close(): Promise<void>;
  /** Whether `close` was called (the test ended): background loops stop on it. */
  closed(): boolean;
}

/** Settings every replica of a test cluster shares: a short lease so that failover is quick. */
export const CLUSTER_ENV: Readonly<Record<string, string>> = {
  PILOTAGE_HEARTBEAT: '250ms',
  PILOTAGE_LEASE_TTL: '3s',
  PILOTAGE_ENCRYPTION_KEY: 'replica-cluster-test-key',
  PILOTAGE_KILL_GRACE: '1s',
  PILOTAGE_SHUTDOWN_GRACE: '2s',
};

/**
 * A cluster for `t`'s tests: PostgreSQL started, no replica yet. Skips the test without the
 * PostgreSQL binaries, except in CI (`CI=true`), where that fails it. Needs the built CLI.
 */
export async function replicaCluster(
  t: TestContext,
  env: Record<string, string> = {},
): Promise<ReplicaCluster | undefined> {
  assert.ok(existsSync(CLI_BUILT), `build first (npm run build): ${CLI_BUILT} is missing`);
  const binaries = await findPostgresBinaries();
  if ('missing' in binaries) {
    if (process.env['CI'] === 'true') assert.fail(`postgres not installed: ${binaries.missing}`);
    t.skip(`postgres not installed: ${binaries.missing}`);
    return undefined;
  }
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-replicas-'));
  const pg = await startPostgres();
  const slots: (ServeProcess | undefined)[] = [];
  let token: string | undefined;
  let closed: Promise<void> | undefined;
  const cluster: ReplicaCluster = {
    dir,
    pg,
    db: pg.url,
    token: () => {
      assert.ok(token !== undefined, 'start a replica first');
      return token;
    },
    replica: (i) => slots[i],
    live: () => slots.filter((s): s is ServeProcess => s !== undefined),
    async start(i, extra = {}) {
      // a failed test's background loops must not start replicas once the cluster is gone
      assert.equal(closed, undefined, 'the cluster is closed');
      assert.equal(slots[i], undefined, `replica ${i} is already running`);
      const data = join(dir, `r${i}`);
      await mkdir(data, { recursive: true });
      const server = await startServe(data, { ...CLUSTER_ENV, PILOTAGE_DB: pg.url, ...env, ...extra }, [], {
        ...(token === undefined ? {} : { token }),
      });
      token ??= server.token;
      slots[i] = server;
      return server;
    },
    async kill(i) {
      const server = slots[i];
      assert.ok(server !== undefined, `replica ${i} is not running`);
      slots[i] = undefined;
      server.child.kill('SIGKILL');
      await server.exited;
    },
    api(method, path, body, i) {
      const server = i === undefined ? cluster.live()[0] : slots[i];
      assert.ok(server !== undefined, 'no replica is running');
      return server.api(method, path, body);
    },
    closed: () => closed !== undefined,
    close() {
      closed ??= (async () => {
        await Promise.all(cluster.live().map((s) => stopServe(s)));
        await pg.stop();
        await rm(dir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
  t.after(() => cluster.close());
  return cluster;
}
