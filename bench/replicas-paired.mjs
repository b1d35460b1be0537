#!/usr/bin/env node
// `npm run bench:replicas:paired` (issue 11): is one replica of three as fast as one alone? On a
// small shared machine `bench:replicas` swings ±20% from one run to the next for the same build
// (one measure per count, a minute apart), so one run cannot tell 0.92x from 1.0x. This bench
// measures the ratio in pairs of short slices instead, side by side in time, and reports the
// median of the per-pair ratios with its spread:
//   three warm `pilotage serve` replicas on one throwaway PostgreSQL, then BENCH_PAIRS pairs of
//   - "1": one-action runs through replica A alone, the two others stopped (SIGSTOP: no CPU,
//     their connections idle, each slice far shorter than a replica's 15-s lease), and
//   - "3": the same number of runs through all three in turn,
//   in alternating order (1 then 3, 3 then 1, ...), each slice BENCH_PAIR_RUNS runs.
// BENCH_EXECUTORS (default fake): fake (the bench's in-memory executor) and/or local (`run: "true"`).
// BENCH_BATCH_SCHEDULING=false: the replicas keep the default scheduling policy
// (PILOTAGE_BATCH_SCHEDULING=false; by default `serve` on PostgreSQL runs under SCHED_BATCH).
//   node --import tsx bench/replicas-paired.mjs   after `npm run build`
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres } from '../packages/engine/test/support/postgres.ts';
import { stopServe } from '../packages/engine/test/support/serve-process.ts';
import { machineLine, positiveEnv, quantile } from './common.mjs';
import { SUBMITTERS, fan, loadLine, measure, one, startReplica } from './replicas-support.mjs';
import { fixed, formatTable } from './table.mjs';

/** 3 replicas "no slower than 1": the median per-pair ratio at least this (bench:replicas' bar). */
const MIN_THREE_TO_ONE = 0.95;
/** A slice longer than this is reported: a stopped replica's lease (15 s) must not run out. */
const LONGEST_SLICE_MS = 8000;

const pairs = positiveEnv('BENCH_PAIRS', 11);
const sliceRuns = positiveEnv('BENCH_PAIR_RUNS', 500);
const warmRuns = positiveEnv('BENCH_WARM_RUNS', 2000);
const executors = (process.env.BENCH_EXECUTORS ?? 'fake').split(',').map((x) => x.trim());
for (const e of executors)
  if (e !== 'fake' && e !== 'local') throw new Error(`BENCH_EXECUTORS: ${e} is neither fake nor local`);
const progress = (text) => process.stderr.write(`${text}\n`);
const batchSetting =
  process.env.BENCH_BATCH_SCHEDULING === undefined
    ? {}
    : { PILOTAGE_BATCH_SCHEDULING: process.env.BENCH_BATCH_SCHEDULING };

/** The median of `values` (the mean of the two middle ones for an even count: no lean either way). */
function middle(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const half = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2;
}

/** Stop (SIGSTOP) or continue (SIGCONT) replicas' processes. */
function signal(replicas, name) {
  for (const r of replicas) process.kill(r.child.pid, name);
}

/** One executor's pairs on a database of its own: the per-pair ratios and the slices' figures. */
async function pairedSeries(pgServer, executor, dir) {
  const url = await pgServer.createDatabase(`paired_${executor}`);
  const replicas = [];
  const db = new pg.Client({ connectionString: url });
  try {
    for (let i = 0; i < 3; i++) {
      replicas.push(await startReplica({ dir, executor, index: i, url, token: replicas[0]?.token, env: batchSetting }));
    }
    await db.connect();
    for (const yaml of [one, fan]) {
      const response = await replicas[0].api('POST', '/v1/workflows', yaml);
      if (!response.ok) throw new Error(`workflow: ${response.status} ${await response.text()}`);
    }
    progress(`${executor}: warming up 3 replicas, ${warmRuns} runs each, not counted...`);
    await measure(db, pgServer, replicas, 'one', warmRuns * replicas.length, { countTransactions: false });
    const [alone, ...others] = replicas;
    // the stopped ones go on in the slice's `finally`, whatever happens in it
    const slice = async (count) => {
      if (count === 1) signal(others, 'SIGSTOP');
      const begin = Date.now();
      try {
        return {
          ...(await measure(db, pgServer, count === 1 ? [alone] : replicas, 'one', sliceRuns, {
            countTransactions: false,
          })),
          ms: Date.now() - begin,
        };
      } finally {
        if (count === 1) signal(others, 'SIGCONT');
      }
    };
    const results = [];
    for (let p = 0; p < pairs; p++) {
      const order = p % 2 === 0 ? [1, 3] : [3, 1];
      progress(`${executor}: pair ${p + 1} of ${pairs} (${order.join(' then ')})...`);
      const got = {};
      for (const count of order) got[count] = await slice(count);
      results.push({ one: got[1], three: got[3], ratio: got[3].runsPerMin / got[1].runsPerMin, load: loadavg()[0] });
    }
    return results;
  } finally {
    await db.end().catch(() => undefined);
    await Promise.all(replicas.map((s) => stopServe(s)));
  }
}

const dir = await mkdtemp(join(tmpdir(), 'pilotage-bench-replicas-paired-'));
console.log(`\nPilotage replicas bench, paired (issue 11), ${new Date().toISOString().slice(0, 16)} UTC`);
console.log(machineLine());
console.log(loadLine('at the start'));
const pgServer = await startPostgres();
let failed = false;
try {
  const bySeries = {};
  for (const executor of executors) bySeries[executor] = await pairedSeries(pgServer, executor, dir);
  const rows = [
    [
      'executor',
      'pair',
      'order',
      'runs/min, 1 of 3',
      'runs/min, 3',
      '3 / 1',
      'CPU ms/run: replicas 1 / 3',
      'PostgreSQL 1 / 3',
      'load',
    ],
  ];
  for (const executor of executors) {
    for (const [i, r] of bySeries[executor].entries()) {
      rows.push([
        executor,
        String(i + 1),
        i % 2 === 0 ? '1, 3' : '3, 1',
        fixed(r.one.runsPerMin, 0),
        fixed(r.three.runsPerMin, 0),
        `${fixed(r.ratio)}x`,
        `${fixed(r.one.replicaCpuMs, 1)} / ${fixed(r.three.replicaCpuMs, 1)}`,
        `${fixed(r.one.postgresCpuMs, 1)} / ${fixed(r.three.postgresCpuMs, 1)}`,
        fixed(r.load),
      ]);
    }
  }
  console.log(
    `\nOne PostgreSQL (fsync off, as in the tests), three warm \`pilotage serve\` replicas (${warmRuns} one-action runs` +
      ` each first, not counted); ${pairs} pairs of slices of ${sliceRuns} one-action runs, ${SUBMITTERS} requests in flight:` +
      ` "1 of 3" through one replica with the two others stopped (SIGSTOP), "3" through all three in turn;` +
      ` scheduling: ${process.env.BENCH_BATCH_SCHEDULING === 'false' ? 'the default policy' : 'SCHED_BATCH (serve on PostgreSQL, the default)'};` +
      ` rates from the store's times; CPU per run from /proc`,
  );
  console.log(formatTable(rows));
  console.log('\nTargets (issue 11), on the median of the per-pair ratios:');
  for (const executor of executors) {
    const results = bySeries[executor];
    const ratios = results.map((r) => r.ratio);
    const mid = middle(ratios);
    const ok = mid >= MIN_THREE_TO_ONE;
    failed ||= !ok;
    const long = results.flatMap((r) => [r.one.ms, r.three.ms]).filter((ms) => ms > LONGEST_SLICE_MS).length;
    console.log(
      `  ${executor}: 3 replicas no slower than 1 (median ≥ ${MIN_THREE_TO_ONE}x): median ${fixed(mid)}x` +
        ` (quartiles ${fixed(quantile(ratios, 0.25))}x–${fixed(quantile(ratios, 0.75))}x, range` +
        ` ${fixed(Math.min(...ratios))}x–${fixed(Math.max(...ratios))}x, ${ratios.length} pairs) ${ok ? 'met' : 'NOT MET'}` +
        (long === 0 ? '' : `; ${long} slice(s) over ${LONGEST_SLICE_MS} ms: lower BENCH_PAIR_RUNS`),
    );
  }
  console.log(loadLine('at the end'));
} finally {
  await pgServer.stop();
  await rm(dir, { recursive: true, force: true });
}
if (failed) process.exitCode = 1;
