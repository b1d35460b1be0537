#!/usr/bin/env node
// `npm run bench:events`: what CDEvents cost. (1) Throughput of the outbox: events per second
// from the store to a local HTTP sink through the delivery worker, and how long an event waits
// between being written and arriving. (2) What emitting adds per task run: the same workflow with
// no events, with events built and stored, and with events also delivered to an HTTP sink.
// See bench/README.md ("CDEvents outbox") for what each figure means. Needs `npm run build`.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../packages/engine/dist/config/config.js';
import { NO_EVENTS } from '../packages/engine/dist/engine/ports.js';
import {
  buildPipelineRunFinished,
  buildPipelineRunQueued,
  buildPipelineRunStarted,
  buildTaskRunFinished,
  buildTaskRunStarted,
  toOutboxEvent,
} from '../packages/engine/dist/events/builders.js';
import { startDeliveryWorker } from '../packages/engine/dist/events/delivery-worker.js';
import { httpSink } from '../packages/engine/dist/events/sinks/http-sink.js';
import { createRuntime } from '../packages/engine/dist/main.js';
import { openStore } from '../packages/engine/dist/store/open-store.js';
import { machineLine, median, positiveEnv } from './common.mjs';
import { benchPlan, timeEngineRun } from './engine-bench.mjs';
import { fixed, formatTable } from './table.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const runs = positiveEnv('BENCH_EVENT_RUNS', 400); // part 1: runs of 5 events each
const tasks = positiveEnv('BENCH_N', 200); // part 2: actions per workflow run
const rounds = positiveEnv('BENCH_ROUNDS', 3); // part 2: rounds per variant, median kept
const rate = positiveEnv('BENCH_EVENT_RATE', 200); // part 1, paced stream: events per second written
const mode = process.env['BENCH_SINK_MODE'] === 'structured' ? 'structured' : 'binary';
const progress = (text) => process.stderr.write(`${text}\n`);

const dir = await mkdtemp(join(tmpdir(), 'pilotage-bench-outbox-'));
const sinkServer = await startSinkServer();
try {
  const throughput = await measureThroughput();
  const perTask = await measurePerTask();
  report(throughput, perTask);
} finally {
  await sinkServer.close();
  await rm(dir, { recursive: true, force: true });
}

/** Start bench/outbox-sink.mjs in its own process; resolves once it listens. */
function startSinkServer() {
  const child = spawn(process.execPath, [join(here, 'outbox-sink.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (chunk) => {
      const base = chunk.toString().trim();
      resolve({
        url: `${base}/events`,
        /** when each event arrived, by id (epoch ms) */
        arrivals: async () => new Map(Object.entries(await (await fetch(`${base}/arrivals`)).json())),
        close: () =>
          new Promise((done) => {
            child.once('exit', () => done());
            child.stdin.end();
          }),
      });
    });
  });
}

/** The five events of one run with one task run, as the engine writes them (valid CDEvents). */
function runEvents(runId, t0) {
  const base = { engineUrl: 'http://127.0.0.1:8080', workflow: 'bench', runId, chainId: `chain-${runId}` };
  const queued = buildPipelineRunQueued({ ...base, timestamp: t0 });
  const started = buildPipelineRunStarted({ ...base, timestamp: t0, previousEventId: queued.context.id });
  const task = { ...base, taskRunId: `${runId}-t`, taskName: 'unit', parentEventId: started.context.id };
  const tStarted = buildTaskRunStarted({ ...task, timestamp: t0, previousEventId: started.context.id });
  const tFinished = buildTaskRunFinished({
    ...task,
    timestamp: t0,
    outcome: 'success',
    previousEventId: tStarted.context.id,
  });
  const finished = buildPipelineRunFinished({
    ...base,
    timestamp: t0,
    outcome: 'success',
    previousEventId: tFinished.context.id,
  });
  return [queued, started, tStarted, tFinished, finished].map((e) => toOutboxEvent(e, runId));
}

/**
 * Part 1. A backlog: `runs` runs' events written first, then one worker delivers them all (the
 * rate of catching up after an outage). Then a paced stream: the same number written while the
 * worker runs, five at a time as runs would, at `rate` events per second (below the backlog
 * rate, so no queue builds up), timing each event from its write to its arrival.
 */
async function measureThroughput() {
  const store = await openStore({ url: join(dir, 'throughput.db') });
  try {
    const t0 = Date.now();
    const backlog = Array.from({ length: runs }, (_, i) => runEvents(`backlog-${i}`, t0)).flat();
    for (let i = 0; i < backlog.length; i += 500) await store.outbox.append(backlog.slice(i, i + 500));
    progress(`part 1: delivering a backlog of ${backlog.length} events to ${sinkServer.url} (${mode} mode)...`);
    const sink = httpSink({ url: sinkServer.url, name: 'bench', mode });
    const begin = performance.now();
    const worker = startDeliveryWorker({ deliveries: store.deliveries, sinks: [sink] });
    const { pending } = await worker.drain(600_000);
    const backlogMs = performance.now() - begin;
    if (pending !== 0) throw new Error(`${pending} backlog events were not delivered`);

    progress(`part 1: streaming ${backlog.length} more events at ${rate} events/s while the worker runs...`);
    const written = new Map();
    const streamBegin = performance.now();
    const gapMs = (5 / rate) * 1000;
    for (let i = 0; i < runs; i++) {
      const events = runEvents(`stream-${i}`, Date.now());
      await store.outbox.append(events);
      const at = Date.now();
      for (const e of events) written.set(e.id, at);
      // the engine kicks the worker after each write
      worker.kick();
      const due = streamBegin + (i + 1) * gapMs;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    }
    const left = await worker.drain(600_000);
    await worker.stop();
    if (left.pending !== 0) throw new Error(`${left.pending} streamed events were not delivered`);
    const arrivals = await sinkServer.arrivals();
    const latencies = [...written].map(([id, at]) => arrivals.get(id) - at).sort((x, y) => x - y);
    return {
      events: backlog.length,
      backlogMs,
      p50: latencies[Math.floor(latencies.length * 0.5)],
      p95: latencies[Math.floor(latencies.length * 0.95)],
      max: latencies.at(-1),
    };
  } finally {
    await store.close();
  }
}

/**
 * Part 2. Three engines as `pilotage run` builds them, each on its own SQLite file: (a) no
 * events at all, (b) events built, validated and written with each state change (no sink),
 * (c) the same plus an HTTP sink, delivered while the run goes on. One workflow of `tasks`
 * exit-code actions run one after the other. Each round runs a, b and c in turn, so that load
 * from elsewhere on the machine falls on all three alike; the added cost is the median over the
 * rounds of each round's difference with (a).
 */
async function measurePerTask() {
  const variants = [
    { key: 'a', label: 'no events', options: { events: NO_EVENTS } },
    { key: 'b', label: 'events stored, no sink', options: {} },
    {
      key: 'c',
      label: 'events stored + HTTP sink',
      options: { sinks: [httpSink({ url: sinkServer.url, name: 'bench' })] },
    },
  ];
  const component = join(here, 'components/noop/component.yaml');
  const open = [];
  try {
    for (const variant of variants) {
      const vdir = join(dir, `variant-${variant.key}`);
      const config = loadConfig({
        env: {},
        home: vdir,
        flags: { db: join(vdir, 'bench.db'), dataDir: vdir, executor: 'local', maxParallel: tasks },
      });
      const runtime = await createRuntime(config, variant.options);
      const entry = { ...variant, runtime, walls: [], drains: [] };
      open.push(entry);
      const plan = (name, n) =>
        benchPlan({ dir, name: `${name}-${variant.key}`, componentFile: component, n, concurrency: 1 });
      await timeEngineRun(runtime, await plan('warm', 5));
      entry.plan = await plan('events', tasks);
    }
    for (let round = 0; round < rounds; round++) {
      progress(`part 2: round ${round + 1} of ${rounds}: ${tasks} actions with each variant...`);
      for (const entry of open) {
        entry.walls.push((await timeEngineRun(entry.runtime, entry.plan)).wallMs);
        const begin = performance.now();
        const pending = await entry.runtime.drainEvents(60_000);
        if (pending !== 0) throw new Error(`${pending} events still pending after the run`);
        entry.drains.push(performance.now() - begin);
      }
    }
  } finally {
    for (const entry of open) await entry.runtime.close();
  }
  const base = open[0];
  return open.map((entry) => ({
    key: entry.key,
    label: entry.label,
    wallMs: median(entry.walls),
    addedMs: median(entry.walls.map((wall, round) => wall - base.walls[round])),
    drainMs: median(entry.drains),
  }));
}

function report(throughput, perTask) {
  console.log(`Pilotage CDEvents bench, ${new Date().toISOString().slice(0, 10)}`);
  console.log(`${machineLine()}\n`);
  const t = throughput;
  console.log(
    `1. Outbox to a local HTTP sink (SQLite file store, one worker, ${mode} mode, ${t.events} events of ${runs} runs)`,
  );
  console.log(
    formatTable([
      ['case', 'events', 'ms', 'events/s'],
      [
        'backlog (written first, then delivered)',
        String(t.events),
        fixed(t.backlogMs, 0),
        fixed((t.events / t.backlogMs) * 1000, 0),
      ],
    ]),
  );
  console.log(
    `   paced stream, ${rate} events/s written 5 at a time: from write to arrival at the sink, ` +
      `p50 ${t.p50} ms, p95 ${t.p95} ms, max ${t.max} ms\n`,
  );

  console.log(
    `2. Per task run (${tasks} exit-code actions in sequence, median of ${rounds} runs; 2 events per task run)`,
  );
  console.log(
    formatTable([
      ['variant', 'run ms', 'ms/task', 'added ms/task (vs a, paired)', 'drain after run ms'],
      ...perTask.map((r) => [
        r.label,
        fixed(r.wallMs, 0),
        fixed(r.wallMs / tasks),
        r.key === 'a' ? '-' : fixed(r.addedMs / tasks),
        r.key === 'c' ? fixed(r.drainMs, 0) : '-',
      ]),
    ]),
  );
}
