#!/usr/bin/env node
// `npm run bench`: the engine's per-task cost against the bare limit (node:child_process alone),
// for trivial actions in the exit-code style and in the full five-callback style, run one after
// the other and all at once. See bench/README.md for what each figure means.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { timeBareLoop } from './bare-loop.mjs';
import { loadNow, machineLine, median, positiveEnv } from './common.mjs';
import { sequentialBreakdown } from './breakdown.mjs';
import { benchPlan, createBenchRuntime, timeEngineRun } from './engine-bench.mjs';
import { measureTracing } from './tracing-bench.mjs';
import { runLanguageBench } from './language.mjs';
import { fixed, formatTable } from './table.mjs';

/** The targets of issue 2. */
const MAX_SEQUENTIAL_RATIO = 1.5;
const MAX_CONTRACT_MS = 2;
const WARMUP_N = 5;
/** rounds of the tracing comparison, alternating with and without an endpoint */
const TRACE_ROUNDS = 3;

const here = dirname(fileURLToPath(import.meta.url));
const n = positiveEnv('BENCH_N', 200);
const allStyles = [
  {
    key: 'a',
    label: 'exit-code (/bin/true)',
    component: join(here, 'components/noop/component.yaml'),
    bare: { file: '/bin/true' },
    // a few seconds a round: measured three times, the median kept, to damp noise from other load
    repeats: 3,
  },
  {
    key: 'b',
    label: 'five callbacks (Node SDK)',
    component: join(here, 'components/sdk-noop/component.yaml'),
    // the same script the engine starts, through the same shebang
    bare: { file: join(here, 'components/sdk-noop/main.mjs') },
    // compared like with like with the same runtime's exit-code style
    baseline: 'n',
  },
  {
    key: 'c',
    label: 'five callbacks (node:http)',
    component: join(here, 'components/http-noop/component.yaml'),
    bare: { file: join(here, 'components/http-noop/main.mjs') },
    baseline: 'n',
  },
  {
    key: 'n',
    label: 'exit-code (Node, exits 0)',
    component: join(here, 'components/node-noop/component.yaml'),
    bare: { file: join(here, 'components/node-noop/main.mjs') },
  },
  {
    key: 'w',
    label: 'five callbacks (busybox wget)',
    component: join(here, 'components/wget-noop/component.yaml'),
    bare: { file: join(here, 'components/wget-noop/main.sh') },
    baseline: 's',
  },
  {
    key: 's',
    label: 'exit-code (busybox sh)',
    component: join(here, 'components/sh-noop/component.yaml'),
    bare: { file: join(here, 'components/sh-noop/main.sh') },
  },
  // The contract's own cost, measured where the component's runtime is not the bottleneck:
  // components/greet-c compiled here with `cc`, speaking all five callbacks over one kept-alive
  // connection (k), against the same binary with `--no-callbacks` (e, the exit-code style).
  {
    key: 'k',
    label: 'five callbacks (C, one connection)',
    compiled: { args: [] },
    baseline: 'e',
  },
  {
    key: 'e',
    label: 'exit-code (C, exits 0)',
    compiled: { args: ['--no-callbacks'] },
  },
  // The same pair in bash alone (components/greet-bash: /dev/tcp, one connection, no process per call).
  {
    key: 't',
    label: 'five callbacks (bash, one connection)',
    script: { args: [] },
    baseline: 'h',
  },
  {
    key: 'h',
    label: 'exit-code (bash, exits 0)',
    script: { args: ['--no-callbacks'] },
  },
];
const hasCc = commandWorks('cc', ['--version']);
const styles = pickStyles(process.env['BENCH_STYLES'] ?? (hasCc ? 'a,b,n,k,e' : 'a,b,n'));
const modes = [
  { key: 'seq', label: 'sequential', concurrency: () => 1, parallel: false },
  { key: 'par', label: 'parallel', concurrency: (count) => count, parallel: true },
];
// The bare loop's processes get the base the local executor gives a component (PATH, HOME, LANG,
// LC_*, TZ, TMPDIR, USER) and no CO_* variable: the SDK then runs in dev mode, without HTTP. Not the
// whole environment: a variable such as NODE_EXTRA_CA_CERTS alone costs each Node process ~15 ms.
const BASE_ENV = /^(PATH|HOME|LANG|LC_.*|TZ|TMPDIR|USER)$/;
const bareEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => BASE_ENV.test(key)));

const dir = await mkdtemp(join(tmpdir(), 'pilotage-bench-'));
if (styles.some((style) => style.compiled !== undefined)) await compileGreetC(dir, styles);
for (const style of styles.filter((s) => s.script !== undefined)) await greetBashStyle(dir, style);
const runtime = await createBenchRuntime(dir, Math.max(n, WARMUP_N));
const progress = (text) => process.stderr.write(`${text}\n`);
if (!hasCc) progress('cc not found: the C styles (k, e), which measure the contract itself, are left out');
const results = new Map();
let traced;
try {
  progress(`warming up (${WARMUP_N} actions of each style, engine and bare)...`);
  for (const style of styles) {
    for (const mode of modes) {
      const plan = await benchPlan({
        dir,
        name: `warmup-${style.key}-${mode.key}`,
        componentFile: style.component,
        n: WARMUP_N,
        concurrency: mode.concurrency(WARMUP_N),
      });
      await timeEngineRun(runtime, plan);
      await timeBareLoop({ ...style.bare, env: bareEnv, cwd: dir, n: WARMUP_N, parallel: mode.parallel });
    }
  }
  // Rounds alternate the styles (a, b, n, a, b, n, …) so that a style and its like-with-like
  // baseline see the same load; each row keeps its median round. BENCH_ROUNDS: rounds of the
  // styles measured once by default (the cheap exit-code rows get at least 3).
  const rounds = positiveEnv('BENCH_ROUNDS', 1);
  const samples = new Map();
  for (let round = 0; round < rounds * 3; round++) {
    for (const style of styles) {
      if (round >= Math.max(rounds, style.repeats ?? 1)) continue;
      for (const mode of modes) {
        progress(`measuring ${style.label}, ${mode.label}, ${n} actions, round ${round + 1}...`);
        const plan = await benchPlan({
          dir,
          name: `bench-${style.key}-${mode.key}`,
          componentFile: style.component,
          n,
          concurrency: mode.concurrency(n),
        });
        const key = `${style.key}-${mode.key}`;
        const sample = samples.get(key) ?? { style, mode, bares: [], engines: [], loads: [] };
        samples.set(key, sample);
        sample.loads.push(loadNow());
        sample.bares.push(await timeBareLoop({ ...style.bare, env: bareEnv, cwd: dir, n, parallel: mode.parallel }));
        sample.engines.push(await timeEngineRun(runtime, plan));
      }
    }
  }
  for (const [key, { style, mode, bares, engines, loads }] of samples) {
    const bareMs = median(bares);
    const engine = engines.find((e) => e.wallMs === median(engines.map((x) => x.wallMs)));
    const load = `${loads[0]}${loads.length > 1 ? `-${loads.at(-1)}` : ''}`;
    results.set(key, { style, mode, bareMs, engine, rounds: bares.length, load });
  }
  if (styles.some((style) => style.key === 'a')) {
    traced = await measureTracing({
      dir,
      component: allStyles[0].component,
      n,
      rounds: TRACE_ROUNDS,
      warmup: WARMUP_N,
      progress,
    });
  }
} finally {
  await runtime.close();
  await rm(dir, { recursive: true, force: true });
}

const get = (style, mode) => results.get(`${style}-${mode}`);
const perTask = (ms) => ms / n;
const overhead = (r) => perTask(r.engine.wallMs - r.bareMs);
const ratio = (r) => r.engine.wallMs / r.bareMs;
const contractAdds = (style, mode) => overhead(get(style, mode)) - overhead(get('a', mode));
const has = (key) => styles.some((style) => style.key === key);
const verdict = (ok) => (ok ? 'met' : 'NOT MET');

console.log(`Pilotage bench, ${new Date().toISOString().slice(0, 10)}: ${n} trivial actions per run, one stage`);
console.log(machineLine());
console.log('engine: SQLite file store, local executor, loopback callback server; times in ms\n');

const rows = [
  [
    'style',
    'mode',
    'load',
    'rounds',
    'engine',
    'bare',
    'engine/task',
    'bare/task',
    'overhead/task',
    'engine/bare',
    'engine CPU/task',
  ],
];
for (const r of results.values()) {
  rows.push([
    r.style.label,
    r.mode.label,
    r.load,
    String(r.rounds),
    fixed(r.engine.wallMs, 0),
    fixed(r.bareMs, 0),
    fixed(perTask(r.engine.wallMs)),
    fixed(perTask(r.bareMs)),
    fixed(overhead(r)),
    `${fixed(ratio(r))}x`,
    fixed(perTask(r.engine.cpuMs)),
  ]);
}
console.log(formatTable(rows));
console.log(
  '\nengine: startRun to waitForRun resolving; bare: the same processes spawned by node:child_process alone ' +
    '(sequential: spawn, await exit, next; parallel: spawn all, await all); overhead/task = (engine - bare) / N; ' +
    'with several rounds (alternating the styles), the median round of each; load: the 1-minute load average as the first and last rounds of the row began; ' +
    'engine CPU/task: user + system CPU time of this process (the engine) during that run, per task.',
);

// Like with like: a five-callback style against the exit-code style in the same runtime (a Node
// script exiting 0 for the Node styles, busybox sh for wget), both under the engine, same run.
const likeWithLike = (style, mode) =>
  perTask(get(style.key, mode).engine.wallMs - get(style.baseline, mode).engine.wallMs);
const cpuLikeWithLike = (style, mode) =>
  perTask(get(style.key, mode).engine.cpuMs - get(style.baseline, mode).engine.cpuMs);
const paired = styles.filter((style) => style.baseline !== undefined && has(style.baseline));
if (paired.length > 0) {
  console.log(
    '\nWhat the full contract adds per task over the exit-code style in the same runtime, (x_engine - y_engine) / N:',
  );
  for (const style of paired) {
    const base = allStyles.find((s) => s.key === style.baseline);
    console.log(
      `  ${style.key} over ${base.key}, ${style.label} over ${base.label}: sequential ${fixed(likeWithLike(style, 'seq'))} ms, ` +
        `parallel ${fixed(likeWithLike(style, 'par'))} ms; the engine's CPU (this process) ` +
        `${fixed(cpuLikeWithLike(style, 'seq'))} / ${fixed(cpuLikeWithLike(style, 'par'))} ms`,
    );
  }
}

if (has('a')) {
  console.log(
    `\nWhat the full contract adds per task over /bin/true, net of the bare loop, (x_engine - x_bare) - (a_engine - a_bare), / N:`,
  );
  for (const style of styles.filter((s) => s.key !== 'a' && s.baseline !== undefined)) {
    console.log(
      `  ${style.key}, ${style.label}: sequential ${fixed(contractAdds(style.key, 'seq'))} ms, ` +
        `parallel ${fixed(contractAdds(style.key, 'par'))} ms`,
    );
  }
}

console.log("\nWhere a sequential task's time goes (means of the engine's recorded times, ms):");
const breakdownRows = [
  ['style', 'between tasks', 'record+spawn', 'running', 'running->START', 'START->STOP', 'STOP->end'],
];
for (const style of styles) {
  const b = sequentialBreakdown(get(style.key, 'seq').engine.tasks);
  const maybe = (value) => (value === undefined ? '-' : fixed(value));
  breakdownRows.push([
    style.label,
    fixed(b.between),
    fixed(b.toRunning),
    fixed(b.running),
    maybe(b.toFirstCall),
    maybe(b.calls),
    maybe(b.toEnd),
  ]);
}
console.log(formatTable(breakdownRows));

console.log('\nTargets (issue 2):');
for (const style of styles) {
  const r = get(style.key, 'seq');
  console.log(
    `  sequential, engine per task <= ${MAX_SEQUENTIAL_RATIO}x the bare spawn, ${style.label}: ` +
      `${fixed(ratio(r))}x (${fixed(perTask(r.engine.wallMs))} vs ${fixed(perTask(r.bareMs))} ms) ` +
      `${verdict(ratio(r) <= MAX_SEQUENTIAL_RATIO)}`,
  );
}
for (const style of paired) {
  for (const mode of modes) {
    const adds = likeWithLike(style, mode.key);
    console.log(
      `  the full contract (${style.label.replace(/^five callbacks \((.*)\)$/, '$1')}) adds <= ${MAX_CONTRACT_MS} ms ` +
        `per task over the exit-code style in the same runtime (${mode.label}): ${fixed(adds)} ms ${verdict(adds <= MAX_CONTRACT_MS)}`,
    );
  }
}
if (has('a') && has('b')) {
  const adds = contractAdds('b', 'seq');
  console.log(
    `  the full contract (Node SDK) adds <= ${MAX_CONTRACT_MS} ms per task over /bin/true, net of the bare loop ` +
      `(sequential): ${fixed(adds)} ms ${verdict(adds <= MAX_CONTRACT_MS)}`,
  );
}

if (traced !== undefined) {
  const { off, traced: on, noop } = traced;
  console.log(
    `\nTracing (issue 16), ${allStyles[0].label}, sequential, per task (median of ${TRACE_ROUNDS} alternate rounds):`,
  );
  console.log(
    `  no endpoint (the no-op tracer, as in every figure above): ` +
      `wall ${fixed(perTask(off.wallMs))} ms, engine CPU ${fixed(perTask(off.cpuMs))} ms`,
  );
  console.log(
    `  spans exported to a local OTLP/HTTP receiver: wall ${fixed(perTask(on.wallMs))} ms, ` +
      `engine CPU ${fixed(perTask(on.cpuMs))} ms (${fixed(perTask(on.cpuMs - off.cpuMs))} ms CPU more; ${on.spans} spans received)`,
  );
  console.log(
    `  the no-op tracer: ${fixed(noop.callsPerTask, 1)} calls per task, ${fixed(noop.nsPerCall, 1)} ns each: ` +
      `${fixed((noop.callsPerTask * noop.nsPerCall) / 1000, 3)} µs per task`,
  );
}

// the workflow language's figures (issue 14), on an engine of their own; BENCH_LANGUAGE=0 skips them
if (process.env['BENCH_LANGUAGE'] !== '0') await runLanguageBench();

/**
 * BENCH_STYLES: comma-separated keys of `allStyles` (default `a,b,n,k,e`, without `k,e` when
 * there is no `cc`; `c` is the node:http variant; `w` and `s` the busybox wget five-callback style
 * and its exit-code baseline; `k` and `e` the C component with and without its callbacks, `t` and
 * `h` the bash one).
 */
function pickStyles(text) {
  const keys = text.split(',').map((key) => key.trim());
  const unknown = keys.filter((key) => !allStyles.some((style) => style.key === key));
  if (unknown.length > 0 || keys.length === 0) {
    console.error(
      `BENCH_STYLES takes a comma-separated list of a, b, c, n, w, s, k, e, t, h; got ${JSON.stringify(text)}`,
    );
    process.exit(2);
  }
  return allStyles.filter((style) => keys.includes(style.key));
}

/**
 * Compile components/greet-c into `folder` (with -O2, as a user would) and give each C style its
 * component file there (the command `./greet` resolves against the component's folder) and its
 * bare process: the same binary with the same arguments.
 */
async function compileGreetC(folder, chosen) {
  const out = join(folder, 'greet-c');
  await mkdir(out);
  execFileSync('cc', ['-O2', '-o', join(out, 'greet'), join(here, '../components/greet-c/greet.c')], {
    stdio: 'inherit',
  });
  for (const style of chosen.filter((s) => s.compiled !== undefined)) {
    const { args } = style.compiled;
    style.component = join(out, `${style.key}.component.yaml`);
    style.bare = { file: join(out, 'greet'), args };
    await writeFile(
      style.component,
      `apiVersion: pilotage.dev/v1\nkind: Component\nname: bench-greet-c-${style.key}\nversion: 1.0.0\n` +
        `command: ${JSON.stringify(['./greet', ...args])}\n`,
    );
  }
}

/** A bash style: a component file in `folder` whose command is components/greet-bash's script. */
async function greetBashStyle(folder, style) {
  const script = join(here, '../components/greet-bash/greet.sh');
  const { args } = style.script;
  style.component = join(folder, `${style.key}.component.yaml`);
  style.bare = { file: script, args };
  await writeFile(
    style.component,
    `apiVersion: pilotage.dev/v1\nkind: Component\nname: bench-greet-bash-${style.key}\nversion: 1.0.0\n` +
      `command: ${JSON.stringify([script, ...args])}\n`,
  );
}

function commandWorks(file, args) {
  try {
    execFileSync(file, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
