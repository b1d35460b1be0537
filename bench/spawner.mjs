// The local executor's spawner process against spawning directly, in one process and one run
// (`npm run bench:spawner`). See bench/README.md, "The spawner process".
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { timeBareLoop } from './bare-loop.mjs';
import { machineLine, median, positiveEnv } from './common.mjs';
import { benchPlan, createBenchRuntime, timeEngineRun } from './engine-bench.mjs';
import { fixed, formatTable } from './table.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const n = positiveEnv('BENCH_N', 200);
const rounds = positiveEnv('BENCH_ROUNDS', 5);
const component = join(here, 'components/noop/component.yaml');
const modes = [
  { label: 'sequential', concurrency: 1, parallel: false },
  { label: 'parallel', concurrency: n, parallel: true },
];

// Three engines in this one process, so all start processes from the same memory: the default
// (posix_spawn through the native addon), one that forks itself (child_process, never the
// spawner: spawnerAfter Infinity), and one through the spawner process (as where the addon
// could not be built).
const dirs = await Promise.all(['a', 'b', 'c'].map((x) => mkdtemp(join(tmpdir(), `pilotage-bench-${x}-`))));
const variants = [
  { label: 'native posix_spawn', runtime: await createBenchRuntime(dirs[2], n, {}, {}) },
  {
    label: 'direct spawn',
    runtime: await createBenchRuntime(dirs[0], n, {}, { localSpawnerAfter: Infinity, localNative: false }),
  },
  { label: 'spawner process', runtime: await createBenchRuntime(dirs[1], n, {}, { localNative: false }) },
];
const results = new Map();
try {
  for (const mode of modes) {
    for (const variant of variants) {
      const plan = await benchPlan({
        dir: dirs[0],
        name: `warm-${mode.concurrency}`,
        componentFile: component,
        n: 5,
        concurrency: mode.concurrency,
      });
      await timeEngineRun(variant.runtime, plan);
    }
  }
  for (let round = 0; round < rounds; round++) {
    for (const mode of modes) {
      const plan = await benchPlan({
        dir: dirs[0],
        name: `bench-${mode.concurrency}`,
        componentFile: component,
        n,
        concurrency: mode.concurrency,
      });
      const bare = await timeBareLoop({
        file: '/bin/true',
        env: process.env,
        cwd: dirs[0],
        n,
        parallel: mode.parallel,
      });
      record(mode.label, 'bare loop', { wallMs: bare, cpuMs: NaN });
      // alternate which goes first, so that neither always follows the other
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const variant of order) record(mode.label, variant.label, await timeEngineRun(variant.runtime, plan));
      process.stderr.write(`round ${round + 1}/${rounds} ${mode.label} done\n`);
    }
  }
} finally {
  for (const variant of variants) await variant.runtime.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
}

function record(mode, label, { wallMs, cpuMs }) {
  const key = `${mode}\u0000${label}`;
  const entry = results.get(key) ?? { mode, label, wall: [], cpu: [] };
  entry.wall.push(wallMs / n);
  entry.cpu.push(cpuMs / n);
  results.set(key, entry);
}

console.log(
  `The local executor's native posix_spawn, spawner process and direct spawn: ${n} exit-code actions (/bin/true), ${rounds} rounds`,
);
console.log(machineLine());
const rows = [...results.values()].map((entry) => {
  const bare = median(results.get(`${entry.mode}\u0000bare loop`).wall);
  const wall = median(entry.wall);
  return [
    entry.mode,
    entry.label,
    fixed(wall, 2),
    entry.wall.map((value) => fixed(value, 2)).join(' / '),
    Number.isNaN(median(entry.cpu)) ? '-' : fixed(median(entry.cpu), 2),
    `${fixed(wall / bare, 2)}x`,
  ];
});
console.log(
  formatTable([['mode', 'variant', 'ms/task (median)', 'rounds', 'engine CPU ms/task', '/ bare loop'], ...rows]),
);
for (const mode of modes) {
  const direct = results.get(`${mode.label}\u0000direct spawn`);
  for (const label of ['spawner process', 'native posix_spawn']) {
    const other = results.get(`${mode.label}\u0000${label}`);
    const pairs = direct.wall.map((value, i) => other.wall[i] / value);
    const cpuPairs = direct.cpu.map((value, i) => other.cpu[i] / value);
    console.log(
      `${mode.label}: ${label}/direct wall ${fixed(median(pairs), 2)}x (per round ${pairs.map((p) => fixed(p, 2)).join(', ')}), ` +
        `engine CPU ${fixed(median(cpuPairs), 2)}x`,
    );
  }
}
