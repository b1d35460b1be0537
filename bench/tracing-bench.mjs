import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { NO_SPAN, NO_TRACING } from '../packages/engine/dist/engine/ports.js';
import { median } from './common.mjs';
import { benchPlan, createBenchRuntime, timeEngineRun } from './engine-bench.mjs';
import { startSpanSink } from './span-sink.mjs';

/**
 * What tracing costs per task, for `n` actions of `component` run one after the other: an engine
 * with no endpoint (the no-op tracer every other figure uses) and one exporting to a local
 * OTLP/HTTP receiver, measured in alternate rounds (so both see the same machine load), the
 * median round of each; then how many calls the engine makes to the no-op tracer per task and
 * what one costs. Wall and CPU times in ms; CPU is this process's (the engine's side).
 */
export async function measureTracing({ dir, component, n, rounds, warmup, progress }) {
  const sink = await startSpanSink();
  const engines = {
    off: await createBenchRuntime(join(dir, 'tracing-off'), Math.max(n, warmup)),
    traced: await createBenchRuntime(join(dir, 'tracing-traced'), Math.max(n, warmup), { otelEndpoint: sink.url }),
  };
  const counter = countingTracing();
  const counted = await createBenchRuntime(join(dir, 'tracing-counted'), Math.max(n, warmup), {}, counter);
  try {
    const plans = {};
    for (const [key, engine] of Object.entries(engines)) {
      const folder = join(dir, `tracing-${key}`);
      const plan = (name, count) =>
        benchPlan({ dir: folder, name, componentFile: component, n: count, concurrency: 1 });
      await timeEngineRun(engine, await plan(`warmup-${key}`, warmup));
      plans[key] = await plan(`measured-${key}`, n);
    }
    const times = { off: [], traced: [] };
    for (let round = 0; round < rounds; round++) {
      progress(`measuring tracing, round ${round + 1} of ${rounds} (${n} actions with and without an endpoint)...`);
      for (const key of ['off', 'traced']) times[key].push(await timeEngineRun(engines[key], plans[key]));
    }
    await engines.traced.close(); // exports the last batch
    const countedPlan = await benchPlan({
      dir: join(dir, 'tracing-counted'),
      name: 'counted',
      componentFile: component,
      n,
      concurrency: 1,
    });
    await timeEngineRun(counted, countedPlan);
    const pick = (list) => {
      const wall = median(list.map((t) => t.wallMs));
      return { wallMs: wall, cpuMs: median(list.map((t) => t.cpuMs)) };
    };
    return {
      off: pick(times.off),
      traced: { ...pick(times.traced), spans: sink.spans() },
      noop: { callsPerTask: counter.calls() / n, nsPerCall: nsPerNoopCall() },
    };
  } finally {
    for (const engine of [...Object.values(engines), counted]) await engine.close();
    await sink.close();
  }
}

/** A tracer that records nothing but counts every call the engine makes to it (one run's included). */
function countingTracing() {
  let calls = 0;
  const span = {
    context: undefined,
    child: () => {
      calls += 1;
      return span;
    },
    event: () => void (calls += 1),
    set: () => void (calls += 1),
    end: () => void (calls += 1),
  };
  const tracing = {
    calls: () => calls,
    tracing: {
      start: () => {
        calls += 1;
        return span;
      },
    },
  };
  return tracing;
}

/** What one call to the no-op tracer costs, ns (the mean of a million calls of each method). */
function nsPerNoopCall() {
  const count = 1_000_000;
  const attributes = { 'pilotage.state': 'succeeded' };
  let sink = 0;
  const begin = performance.now();
  for (let i = 0; i < count; i++) {
    const child = NO_TRACING.start('x').child('y', attributes);
    child.event('e', attributes);
    child.set(attributes);
    child.end();
    if (child !== NO_SPAN) sink += 1;
  }
  const ns = ((performance.now() - begin) * 1e6) / (count * 5);
  return sink === 0 ? ns : NaN;
}
