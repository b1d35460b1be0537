#!/usr/bin/env node
// `npm run bench:replicas` (issue 11): runs per minute and task runs per second with 1, 2 and 3
// real `pilotage serve` replicas on one throwaway PostgreSQL, with trivial local components
// (`run: "true"`) and with the bench's fake executor (no process: the coordination ceiling alone).
// See bench/README.md ("Replicas") for what each figure means.
//   node --import tsx bench/replicas.mjs   after `npm run build` (tsx: the PostgreSQL helper is TypeScript)
// BENCH_RUNS (default 1500): one-action runs per measure; BENCH_FAN_RUNS (default 60): runs of the
// eight-action workflow per measure; BENCH_WARM_RUNS (default 2000): one-action runs through each
// newly started replica, not counted, before the next measure (see `warmUp`);
// BENCH_CPU_PROF=<dir>: a CPU profile of each fake-executor replica in <dir>
// (replicas-fake-serve.mjs; open them in Chrome's DevTools). A shorter variant:
// BENCH_REPLICAS (default 1,2,3,3,2,1): the replica counts measured in turn; BENCH_EXECUTORS
// (default fake,local): which series run. The targets are judged only when 1 and 3 are measured.
// The PG transactions/run column: commits and rollbacks of the bench database per one-action run.
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres } from '../packages/engine/test/support/postgres.ts';
import { stopServe } from '../packages/engine/test/support/serve-process.ts';
import { timeBareLoop } from './bare-loop.mjs';
import { machineLine, positiveEnv } from './common.mjs';
import { FAN, SUBMITTERS, fan, loadLine, measure, one, startReplica } from './replicas-support.mjs';
import { fixed, formatTable } from './table.mjs';

/** Issue 11's targets. */
const MIN_FAKE_RUNS_PER_MIN = 3000;
/** 3 replicas "no slower than 1": their rate at least this share of one replica's (measurement noise) */
const MIN_THREE_TO_ONE = 0.95;
/** Argo Workflows' published figures, workflows per minute per controller (default, tuned). */
const ARGO = [270, 810];

const runs = positiveEnv('BENCH_RUNS', 1500);
const warmRuns = positiveEnv('BENCH_WARM_RUNS', 2000);
const listEnv = (name, fallback) => (process.env[name] ?? fallback).split(',').map((x) => x.trim());
const order = listEnv('BENCH_REPLICAS', '1,2,3,3,2,1').map((x) => {
  const count = Number(x);
  if (!Number.isInteger(count) || count < 1) throw new Error(`BENCH_REPLICAS: ${x} is not a replica count`);
  return count;
});
const executors = listEnv('BENCH_EXECUTORS', 'fake,local');
for (const e of executors)
  if (e !== 'fake' && e !== 'local') throw new Error(`BENCH_EXECUTORS: ${e} is neither fake nor local`);
const fanRuns = positiveEnv('BENCH_FAN_RUNS', 60);
const progress = (text) => process.stderr.write(`${text}\n`);
const load = () => fixed(loadavg()[0]);

/**
 * Runs not counted, through the replicas started since the last measure only (`warmRuns`
 * one-action runs and a few eight-action ones each), so that every measure sees replicas in their
 * steady state. A replica just started runs its hot paths interpreted until V8 has compiled and
 * optimised them, and its heap grows to its working size: its CPU per fake run goes from ~3.4 ms
 * over its first 500 runs to ~1.6 ms after ~2,000 (measured). Measures of 600 runs right after
 * starting replicas counted that start-up as cost per run: two fresh replicas of three made the
 * three 0.69x of one warm replica, where warm ones gave 0.78x–1.00x in repeated measures.
 */
async function warmUp(db, pgServer, fresh) {
  await measure(db, pgServer, fresh, 'one', warmRuns * fresh.length);
  await measure(db, pgServer, fresh, 'fan', 20 * fresh.length);
}

/**
 * One executor's series on a database of its own: 1, 2, 3 replicas, then 3, 2 and 1 again (each
 * count measured twice, in an order whose middle is the same from both ends, so that load
 * from elsewhere rising or falling over the series falls on every count alike); the mean per count.
 */
async function series(pgServer, executor, dir) {
  const url = await pgServer.createDatabase(`bench_${executor}`);
  const slots = [];
  let token;
  const start = async (i) => {
    // a CPU profile of each fake-executor replica, written where BENCH_CPU_PROF says
    const env = process.env.BENCH_CPU_PROF === undefined ? {} : { BENCH_CPU_PROF: process.env.BENCH_CPU_PROF };
    slots[i] = await startReplica({ dir, executor, index: i, url, token, env });
    token ??= slots[i].token;
  };
  const db = new pg.Client({ connectionString: url });
  const results = new Map();
  try {
    await start(0);
    await db.connect();
    for (const yaml of [one, fan]) {
      const response = await slots[0].api('POST', '/v1/workflows', yaml);
      if (!response.ok) throw new Error(`workflow: ${response.status} ${await response.text()}`);
    }
    const fresh = [slots[0]];
    for (const [step, count] of order.entries()) {
      while (slots.filter(Boolean).length < count) {
        const i = slots.filter(Boolean).length;
        await start(i);
        fresh.push(slots[i]);
      }
      while (slots.filter(Boolean).length > count) {
        const last = slots.filter(Boolean).length - 1;
        await stopServe(slots[last]);
        slots[last] = undefined;
      }
      const live = slots.filter(Boolean);
      if (fresh.length > 0) {
        progress(`${executor}: warming up ${fresh.length} new replica(s), ${warmRuns} runs each, not counted...`);
        await warmUp(db, pgServer, fresh.splice(0));
      }
      progress(`${executor}: ${count} replica(s), ${runs} one-action runs (${step + 1} of ${order.length})...`);
      const single = await measure(db, pgServer, live, 'one', runs);
      progress(`${executor}: ${count} replica(s), ${fanRuns} runs of ${FAN} parallel actions...`);
      const wide = await measure(db, pgServer, live, 'fan', fanRuns);
      results.set(count, [...(results.get(count) ?? []), { single, wide }]);
    }
  } finally {
    await db.end().catch(() => undefined);
    await Promise.all(slots.filter(Boolean).map((s) => stopServe(s)));
  }
  const mean = (list, pick) => list.reduce((sum, x) => sum + pick(x), 0) / list.length;
  return new Map(
    [...results].map(([count, list]) => [
      count,
      {
        runsPerMin: mean(list, (x) => x.single.runsPerMin),
        oneTasksPerSec: mean(list, (x) => x.single.tasksPerSec),
        fanRunsPerMin: mean(list, (x) => x.wide.runsPerMin),
        fanTasksPerSec: mean(list, (x) => x.wide.tasksPerSec),
        submitPerSec: mean(list, (x) => x.single.submitPerSec),
        replicaCpuMs: mean(list, (x) => x.single.replicaCpuMs),
        postgresCpuMs: mean(list, (x) => x.single.postgresCpuMs),
        xactsPerRun: mean(list, (x) => x.single.xactsPerRun),
        load: list.map((x) => x.single.load).join(' / '),
      },
    ]),
  );
}

const dir = await mkdtemp(join(tmpdir(), 'pilotage-bench-replicas-'));
console.log(`\nPilotage replicas bench (issue 11), ${new Date().toISOString().slice(0, 16)} UTC`);
console.log(machineLine());
console.log(loadLine('at the start'));
const pgServer = await startPostgres();
let failed = false;
try {
  progress('bare limit: /bin/true spawned 200 at a time by node:child_process...');
  const bareMs = await timeBareLoop({ file: '/bin/true', env: {}, cwd: dir, n: 200, parallel: true });
  const bareLoad = load();
  const bySeries = {};
  for (const executor of executors) bySeries[executor] = await series(pgServer, executor, dir);

  const rows = [
    [
      'executor',
      'replicas',
      'runs/min (1 action)',
      'task runs/s (1 action)',
      `runs/min (${FAN} actions)`,
      `task runs/s (${FAN} actions)`,
      'x one replica',
      'CPU ms/run: replicas',
      'PostgreSQL',
      'PG transactions/run',
      'submitted/s',
      'load (1 min)',
    ],
  ];
  for (const executor of executors) {
    const results = bySeries[executor];
    const base = results.get(1)?.runsPerMin ?? NaN;
    for (const [count, r] of [...results].sort(([a], [b]) => a - b)) {
      rows.push([
        executor,
        String(count),
        fixed(r.runsPerMin, 0),
        fixed(r.oneTasksPerSec, 1),
        fixed(r.fanRunsPerMin, 0),
        fixed(r.fanTasksPerSec, 1),
        `${fixed(r.runsPerMin / base)}x`,
        fixed(r.replicaCpuMs, 1),
        fixed(r.postgresCpuMs, 1),
        fixed(r.xactsPerRun, 1),
        fixed(r.submitPerSec, 0),
        r.load,
      ]);
    }
  }
  console.log(
    `\nOne PostgreSQL (fsync off, as in the tests), every replica a \`pilotage serve\` process with default` +
      ` settings; ${runs} one-action runs and ${fanRuns} runs of ${FAN} parallel actions per measure,` +
      ` started through the replicas in turn (${SUBMITTERS} requests in flight), after ${warmRuns} runs through each newly` +
      ` started replica, not counted (a fresh replica reaches its steady CPU per run over its first ~2,000); rates from the store's times` +
      ` (first run created to last run ended); each count the mean of its measures (1, 2, 3, 3, 2, 1);` +
      ` CPU per one-action run: user + system time of all replica processes and of PostgreSQL's, from /proc`,
  );
  console.log(formatTable(rows));
  const bareRate = 200 / (bareMs / 1000);
  const local3 = bySeries.local?.get(3);
  console.log(
    `\nbare limit (local): /bin/true spawned 200 at a time by node:child_process: ${fixed(bareRate, 0)} processes/s` +
      ` (load ${bareLoad})` +
      (local3 === undefined
        ? ''
        : `; local, 3 replicas, ${FAN} actions: ${fixed(local3.fanTasksPerSec / bareRate)}x of it`),
  );
  const argo = executors
    .filter((e) => bySeries[e].has(1))
    .map((e) => `${e}, 1 replica: ${fixed(bySeries[e].get(1).runsPerMin / ARGO[1], 1)}x the tuned figure`);
  console.log(
    `Argo Workflows (published): ${ARGO[0]} workflows/min per controller by default, ${ARGO[1]} tuned` +
      (argo.length === 0 ? '' : `; ${argo.join('; ')}`),
  );
  const verdict = (ok) => {
    failed ||= !ok;
    return ok ? 'met' : 'NOT MET';
  };
  console.log('\nTargets (issue 11):');
  for (const executor of executors) {
    const results = bySeries[executor];
    if (!results.has(1) || !results.has(3)) continue;
    const ratio = results.get(3).runsPerMin / results.get(1).runsPerMin;
    console.log(
      `  ${executor}: 3 replicas no slower than 1 (≥ ${MIN_THREE_TO_ONE}x, within noise): ${fixed(ratio)}x ${verdict(ratio >= MIN_THREE_TO_ONE)}`,
    );
  }
  if (bySeries.fake !== undefined) {
    const best = Math.max(...[...bySeries.fake.values()].map((r) => r.runsPerMin));
    const atOne = bySeries.fake.get(1)?.runsPerMin ?? NaN;
    console.log(
      `  fake executor ≥ ${MIN_FAKE_RUNS_PER_MIN} runs/min of a one-action workflow: 1 replica ${fixed(atOne, 0)},` +
        ` best ${fixed(best, 0)} ${verdict(best >= MIN_FAKE_RUNS_PER_MIN)}`,
    );
  }
  console.log(loadLine('at the end'));
} finally {
  await pgServer.stop();
  await rm(dir, { recursive: true, force: true });
}
if (failed) process.exitCode = 1;
