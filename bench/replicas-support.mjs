// What bench/replicas.mjs and bench/replicas-paired.mjs share: the workflows they run, the CPU
// they read from /proc, and one measure (runs started through replicas, timed by the store).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startServe } from '../packages/engine/test/support/serve-process.ts';
import { fixed } from './table.mjs';

/** The same HTTP clients as a load balancer in front of the replicas: requests in flight at once. */
export const SUBMITTERS = 16;
export const FAN = 8;

const load = () => fixed(loadavg()[0]);
const here = dirname(fileURLToPath(import.meta.url));

/**
 * Start replica `index` of `executor`'s series (its data folder under `dir`) on the database at
 * `url`, with `env` over the bench's settings, sharing `token` (the first replica's) when given:
 * a real `pilotage serve`, or the bench's fake-executor entry point (replicas-fake-serve.mjs).
 */
export async function startReplica({ dir, executor, index, url, token, env = {} }) {
  const data = join(dir, `${executor}-r${index}`);
  await mkdir(data, { recursive: true });
  const script = executor === 'fake' ? join(here, 'replicas-fake-serve.mjs') : undefined;
  return startServe(data, { PILOTAGE_DB: url, PILOTAGE_ENCRYPTION_KEY: 'bench-replicas-key', ...env }, [], {
    ...(token === undefined ? {} : { token }),
    ...(script === undefined ? {} : { script }),
  });
}

/** `load average <when>: 1-, 5- and 15-minute figures`, as both replica benches print it. */
export const loadLine = (when) =>
  `load average ${when}: ${loadavg()
    .map((l) => fixed(l))
    .join(', ')}`;

export const one = `apiVersion: pilotage.dev/v1
kind: Workflow
name: one
stages:
  - name: s
    actions:
      - { name: a, run: "true" }
`;
export const fan = `apiVersion: pilotage.dev/v1
kind: Workflow
name: fan
stages:
  - name: s
    actions:
${Array.from({ length: FAN }, (_, i) => `      - { name: a${i + 1}, run: "true" }\n`).join('')}`;

/** CPU time (user + system) process `pid` has used so far, ms; 0 when it is gone or on a system without /proc. */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** The PostgreSQL server's processes: the postmaster (from its pid file) and its children (the backends). */
function postgresPids(pgServer) {
  const pidFile = join(pgServer.dir, 'data', 'postmaster.pid');
  if (!existsSync(pidFile) || !existsSync('/proc')) return [];
  const postmaster = readFileSync(pidFile, 'utf8').split('\n')[0];
  const children = readdirSync('/proc').filter((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    try {
      return readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ')[1] === postmaster;
    } catch {
      return false;
    }
  });
  return [postmaster, ...children];
}

/** CPU used so far by the replicas and by PostgreSQL, ms. */
export function cpuNow(pgServer, replicas) {
  return {
    replicas: replicas.reduce((sum, s) => sum + cpuMs(s.child.pid), 0),
    postgres: postgresPids(pgServer).reduce((sum, pid) => sum + cpuMs(pid), 0),
  };
}

/**
 * Transactions committed and rolled back so far in the bench's database (every statement outside
 * a transaction is one; the bench's own polls are included, ~10 a second).
 */
export async function transactions(db) {
  const { rows } = await db.query(
    `select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()`,
  );
  return Number(rows[0].n);
}

/**
 * Start `count` runs of `workflow` through the live replicas in turn, SUBMITTERS at a time, and
 * wait until all have ended. Returns the rates from the store's own times: from the first run's
 * creation to the last one's end.
 */
export async function measure(db, pgServer, replicas, workflow, count, { countTransactions = true } = {}) {
  const ids = [];
  const cpuBefore = cpuNow(pgServer, replicas);
  const xactsBefore = countTransactions ? await transactions(db) : 0;
  let next = 0;
  const begin = performance.now();
  await Promise.all(
    Array.from({ length: SUBMITTERS }, async () => {
      while (next < count) {
        const server = replicas[next % replicas.length];
        next += 1;
        const response = await server.api('POST', `/v1/workflows/${workflow}/runs`, { data: {} });
        const text = await response.text();
        if (!response.ok) throw new Error(`start of a ${workflow} run: ${response.status} ${text}`);
        ids.push(JSON.parse(text).id);
      }
    }),
  );
  const submitted = performance.now() - begin;
  for (;;) {
    const { rows } = await db.query(
      `select count(*) filter (where state not in ('queued', 'running')) as ended,
              count(*) filter (where state <> 'succeeded' and state not in ('queued', 'running')) as failed,
              min(created_at) as first, max(ended_at) as last
         from runs where id = any($1)`,
      [ids],
    );
    const row = rows[0];
    if (Number(row.ended) === count) {
      if (Number(row.failed) > 0) throw new Error(`${row.failed} ${workflow} runs did not succeed`);
      const tasks = await db.query(`select count(*) as n from task_runs where run_id = any($1)`, [ids]);
      const seconds = (Number(row.last) - Number(row.first)) / 1000;
      const cpuAfter = cpuNow(pgServer, replicas);
      let xactsPerRun = NaN;
      if (countTransactions) {
        // backends report their counts when idle, at most a second late
        await new Promise((resolve) => setTimeout(resolve, 1500));
        xactsPerRun = ((await transactions(db)) - xactsBefore) / count;
      }
      return {
        xactsPerRun,
        replicaCpuMs: (cpuAfter.replicas - cpuBefore.replicas) / count,
        postgresCpuMs: (cpuAfter.postgres - cpuBefore.postgres) / count,
        runsPerMin: (count / seconds) * 60,
        tasksPerSec: Number(tasks.rows[0].n) / seconds,
        submitPerSec: count / (submitted / 1000),
        load: load(),
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
