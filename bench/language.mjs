#!/usr/bin/env node
// The workflow language's costs (issue 14): what a 256-way matrix adds per task run against the
// same 256 task runs written as separate actions, and what a cache hit costs (no process starts).
// Run alone with `npm run bench:language`; `npm run bench` runs it after the engine figures.
// See bench/README.md.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileWorkflow, createFileResolver } from '../packages/engine/dist/plan-files/load.js';
import { machineLine, median, positiveEnv } from './common.mjs';
import { fakeExecutor } from './fake-executor.mjs';
import { createBenchRuntime, timeEngineRun } from './engine-bench.mjs';
import { fixed, formatTable } from './table.mjs';

/** The targets of issue 14. */
const MAX_MATRIX_ADDS_MS = 1;
const MAX_CACHE_HIT_MS = 5;
const MATRIX_N = 256;

const here = dirname(fileURLToPath(import.meta.url));
const noop = join(here, 'components/noop/component.yaml');

/**
 * Measure and print the language's figures on `runtime` (an engine with `maxParallel` ≥ 256),
 * writing workflows into `dir`. `rounds` runs of each shape; each figure is the median round.
 */
export async function languageBench(runtime, dir, rounds, progress) {
  const plan = async (name, text) => {
    const file = join(dir, `${name}.workflow.yaml`);
    const full = `apiVersion: pilotage.dev/v1\nkind: Workflow\nname: ${name}\n${text}`;
    await writeFile(file, full);
    return compileWorkflow(full, file, createFileResolver());
  };
  const actions = Array.from(
    { length: MATRIX_N },
    (_, i) => `      - { name: a${i + 1}, component: ${JSON.stringify(noop)} }\n`,
  );
  const values = JSON.stringify(Array.from({ length: MATRIX_N }, (_, i) => i + 1));
  const shapes = [
    {
      key: 'separate',
      label: `${MATRIX_N} separate actions`,
      plan: await plan('separate', `maxParallel: 1\nstages:\n  - name: s\n    actions:\n${actions.join('')}`),
    },
    {
      key: 'literal',
      label: `one action, ${MATRIX_N}-way literal matrix`,
      plan: await plan(
        'literal-matrix',
        `maxParallel: 1\nstages:\n  - name: s\n    actions:\n      - name: m\n        component: ${JSON.stringify(noop)}\n        matrix: { n: ${values} }\n        with: { n: "\${{ matrix.n }}" }\n`,
      ),
    },
    {
      key: 'expression',
      label: `one action, ${MATRIX_N}-way matrix from an expression`,
      plan: await plan(
        'expression-matrix',
        `inputs: { type: object, properties: { list: { type: array } } }\nmaxParallel: 1\nstages:\n  - name: s\n    actions:\n      - name: m\n        component: ${JSON.stringify(noop)}\n        matrix: { n: "\${{ inputs.list }}" }\n        with: { n: "\${{ matrix.n }}" }\n`,
      ),
      data: { list: JSON.parse(values) },
    },
  ];
  // rounds interleave the shapes, so that load from elsewhere falls on all of them alike
  const times = new Map(shapes.map((shape) => [shape.key, []]));
  for (let round = 0; round < rounds; round++) {
    for (const shape of shapes) {
      progress(`measuring ${shape.label} (one at a time), round ${round + 1} of ${rounds}...`);
      times.get(shape.key).push((await timeEngineRun(runtime, shape.plan, shape.data)).wallMs);
    }
  }
  const matrix = new Map(shapes.map((shape) => [shape.key, median(times.get(shape.key))]));
  // the same shapes on a fake executor (a component that exits 0 at once, no process): the
  // engine's own cost per task run, without the spawn's noise
  const engineOnly = new Map(shapes.map((shape) => [shape.key, []]));
  for (let round = 0; round < rounds; round++) {
    for (const shape of shapes) {
      progress(`measuring ${shape.label} on the fake executor, round ${round + 1} of ${rounds}...`);
      const onFake = { ...shape.plan, executor: 'fake' };
      engineOnly.get(shape.key).push((await timeEngineRun(runtime, onFake, shape.data)).wallMs);
    }
  }
  const engine = new Map(shapes.map((shape) => [shape.key, median(engineOnly.get(shape.key))]));

  // cache: K cached actions in one stage, one after the other; the first run fills the cache
  const K = 50;
  const hitShapes = [
    { key: 'outputs', label: 'cache hit, outputs only', paths: '' },
    { key: 'files', label: 'cache hit, outputs + a 10-file folder', paths: ', paths: [out]' },
    { key: 'skipped', label: 'baseline: if: false (recorded, nothing run)', skip: true },
  ];
  const hits = new Map();
  for (const shape of hitShapes) {
    const list = Array.from({ length: K }, (_, i) =>
      shape.skip
        ? `      - { name: c${i + 1}, if: "false", run: "true" }\n`
        : `      - name: c${i + 1}\n        run: 'mkdir -p out/c${i + 1} && for f in 0 1 2 3 4 5 6 7 8 9; do echo x > out/c${i + 1}/$f; done'\n        cache: { key: "bench-c${i + 1}"${shape.paths.replace('[out]', `[out/c${i + 1}]`)} }\n`,
    ).join('');
    const p = await plan(`cache-${shape.key}`, `maxParallel: 1\nstages:\n  - name: s\n    actions:\n${list}`);
    if (!shape.skip) await timeEngineRun(runtime, p);
    progress(`measuring ${shape.label} (${K} actions, ${rounds} rounds)...`);
    const times = [];
    const spans = [];
    for (let round = 0; round < rounds; round++) {
      const timed = await timeEngineRun(runtime, p);
      if (!shape.skip && !timed.tasks.every((t) => t.reason?.startsWith('cached from run'))) {
        throw new Error(`${shape.label}: a task run was not a cache hit`);
      }
      times.push(timed.wallMs);
      // from the first action's record to the last one's: the hits themselves, without the run's
      // own start and end (its workspace made and removed, with every restored file in it)
      if (!shape.skip) spans.push(timed.tasks.at(-1).endedAt - timed.tasks[0].createdAt);
    }
    hits.set(shape.key, { perAction: median(times) / K, perHit: shape.skip ? undefined : median(spans) / (K - 1) });
  }

  const perTask = (from, key) => from.get(key) / MATRIX_N;
  const adds = (from, key) => perTask(from, key) - perTask(from, 'separate');
  const rows = [['shape', 'executor', 'run', 'per task run', 'adds per task run']];
  for (const [label, from] of [
    ['local (/bin/true)', matrix],
    ['fake (no process)', engine],
  ]) {
    for (const shape of shapes) {
      rows.push([
        shape.label,
        label,
        fixed(from.get(shape.key), 0),
        fixed(perTask(from, shape.key)),
        shape.key === 'separate' ? '-' : fixed(adds(from, shape.key)),
      ]);
    }
  }
  console.log(`\nMatrix: ${MATRIX_N} task runs, one at a time (ms, median of ${rounds} rounds)`);
  console.log(formatTable(rows));
  console.log(`\nCache: ${K} cached actions one at a time, per action (ms, median of ${rounds} rounds)`);
  console.log(
    formatTable([
      ['shape', 'run wall / action', 'one hit (record to record)'],
      ...hitShapes.map(({ key, label }) => {
        const { perAction, perHit } = hits.get(key);
        return [label, fixed(perAction), perHit === undefined ? '-' : fixed(perHit)];
      }),
    ]),
  );
  const verdict = (ok) => (ok ? 'met' : 'NOT MET');
  const worst = Math.max(adds(engine, 'literal'), adds(engine, 'expression'));
  console.log('\nTargets (issue 14):');
  console.log(
    `  a ${MATRIX_N}-way matrix adds < ${MAX_MATRIX_ADDS_MS} ms per task run to the engine's cost (fake executor): ` +
      `${fixed(worst)} ms ${verdict(worst < MAX_MATRIX_ADDS_MS)}`,
  );
  const hitCost = Math.max(hits.get('outputs').perHit, hits.get('files').perHit);
  console.log(
    `  a cache hit costs < ${MAX_CACHE_HIT_MS} ms (one hit, files included): ${fixed(hitCost)} ms ${verdict(hitCost < MAX_CACHE_HIT_MS)}`,
  );
}

/**
 * The language bench on an engine of its own in a temp dir, printed with the machine line and the
 * load average (`npm run bench` calls it after its own figures). `BENCH_ROUNDS` rounds (default 3).
 */
export async function runLanguageBench() {
  const rounds = positiveEnv('BENCH_ROUNDS', 3);
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-bench-language-'));
  await mkdir(dir, { recursive: true });
  const runtime = await createBenchRuntime(dir, MATRIX_N, {}, { executors: [fakeExecutor()] });
  const load = () =>
    loadavg()
      .map((l) => fixed(l))
      .join(', ');
  try {
    console.log(`\nPilotage language bench (issue 14), ${new Date().toISOString().slice(0, 10)}`);
    console.log(machineLine());
    console.log(`load average at the start: ${load()}`);
    await languageBench(runtime, dir, rounds, (text) => process.stderr.write(`${text}\n`));
    console.log(`load average at the end: ${load()}`);
  } finally {
    await runtime.close();
    await rm(dir, { recursive: true, force: true });
  }
}

// run alone: `node bench/language.mjs` (or `npm run bench:language`)
if (process.argv[1] === fileURLToPath(import.meta.url)) await runLanguageBench();
