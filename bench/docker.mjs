#!/usr/bin/env node
// `npm run bench:docker`: the container executor's per-task cost against a bare loop of
// `podman run --rm IMAGE true`, for N trivial actions (default 50) run one after the other and
// all at once. See bench/README.md ("Container executor") for what each figure means.
//   node --import tsx bench/docker.mjs   after `npm run build` (tsx: the image recipes are TypeScript)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { loadConfig } from '../packages/engine/dist/config/config.js';
import { LABELS } from '../packages/engine/dist/executor/docker/labels.js';
import { createRuntime } from '../packages/engine/dist/main.js';
import { ensureTestImages, TEST_IMAGES } from '../packages/engine/test/support/images.js';
import { podmanGlobalFlags, podmanSkipReason, startPodmanService } from '../packages/engine/test/support/podman.js';
import { timeBareLoop } from './bare-loop.mjs';
import { sequentialBreakdown } from './breakdown.mjs';
import { machineLine, positiveEnv } from './common.mjs';
import { benchPlan, timeEngineRun } from './engine-bench.mjs';
import { fixed, formatTable } from './table.mjs';

/** The target of issue 5: the engine's wall time at most this many times the bare loop's. */
const MAX_RATIO = 1.1;
const WARMUP_N = 3;

const here = dirname(fileURLToPath(import.meta.url));
const n = positiveEnv('BENCH_N', 50);
const reason = podmanSkipReason();
if (reason !== undefined) {
  console.error(`the container bench needs Podman: ${reason}`);
  process.exit(1);
}
const progress = (text) => process.stderr.write(`${text}\n`);
/** A workflow of one stage with `count` actions of the docker-noop component, `concurrency` at a time. */
const plan = (name, count, concurrency) =>
  benchPlan({
    dir,
    name,
    componentFile: join(here, 'components/docker-noop/component.yaml'),
    n: count,
    concurrency,
    executor: 'docker',
  });

// One Podman service for the engine; the bare loop uses the podman CLI on the same storage.
const podman = await startPodmanService();
const dir = await mkdtemp(join(tmpdir(), 'pilotage-bench-docker-'));
const engineId = `bench-${process.pid}`;
const docker = new Docker({ socketPath: podman.socketPath });
const bare = {
  file: 'podman',
  // the engine's containers are on the host network: the bare ones too, so both skip network set-up
  args: [...podmanGlobalFlags(), 'run', '--rm', '--network', 'host', TEST_IMAGES.base, 'true'],
  env: process.env,
  cwd: dir,
};
const modes = [
  { key: 'seq', label: 'sequential', concurrency: 1, parallel: false },
  { key: 'par', label: 'parallel', concurrency: n, parallel: true },
];
const results = [];
let runtime;
try {
  progress(`building the base image if needed, starting the engine on ${podman.dockerHost}...`);
  await ensureTestImages(docker, ['base']);
  runtime = await createRuntime(
    loadConfig({
      env: {},
      home: dir,
      flags: {
        db: join(dir, 'bench.db'),
        dataDir: dir,
        executor: 'docker',
        dockerHost: podman.dockerHost,
        engineId,
        maxParallel: Math.max(n, WARMUP_N),
        keepWorkspace: false,
      },
    }),
  );
  progress(`warming up (${WARMUP_N} actions, engine and bare, each mode)...`);
  for (const mode of modes) {
    await timeEngineRun(runtime, await plan(`warmup-${mode.key}`, WARMUP_N, Math.min(mode.concurrency, WARMUP_N)));
    await timeBareLoop({ ...bare, n: WARMUP_N, parallel: mode.parallel });
  }
  for (const mode of modes) {
    progress(`measuring ${mode.label}, ${n} actions...`);
    const bench = await plan(`bench-${mode.key}`, n, mode.concurrency);
    const bareMs = await timeBareLoop({ ...bare, n, parallel: mode.parallel });
    const engine = await timeEngineRun(runtime, bench);
    results.push({ mode, bareMs, engine });
  }
  const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.engineId}=${engineId}`] } });
  if (left.length > 0) throw new Error(`the engine left ${left.length} containers behind`);
} finally {
  await runtime?.close();
  await podman.stop();
  await rm(dir, { recursive: true, force: true });
}

console.log(`Pilotage container bench, ${new Date().toISOString().slice(0, 10)}: ${n} trivial actions per run`);
console.log(machineLine());
console.log(
  `engine: SQLite file store, docker executor on a Podman service (host network); bare: podman run --rm ` +
    `--network host ${TEST_IMAGES.base} true; times in ms\n`,
);
const rows = [['mode', 'engine', 'bare', 'engine/task', 'bare/task', 'overhead/task', 'engine/bare']];
for (const r of results) {
  rows.push([
    r.mode.label,
    fixed(r.engine.wallMs, 0),
    fixed(r.bareMs, 0),
    fixed(r.engine.wallMs / n),
    fixed(r.bareMs / n),
    fixed((r.engine.wallMs - r.bareMs) / n),
    `${fixed(r.engine.wallMs / r.bareMs)}x`,
  ]);
}
console.log(formatTable(rows));

const seq = results.find((r) => r.mode.key === 'seq');
const b = sequentialBreakdown(seq.engine.tasks);
console.log("\nWhere a sequential task's time goes (means of the engine's recorded times, ms):");
console.log(
  formatTable([
    ['between tasks (incl. removing the last container)', 'record+pull check+create+start', 'running to recorded end'],
    [fixed(b.between), fixed(b.toRunning), fixed(b.running)],
  ]),
);
console.log(`\nTarget (issue 5): engine <= ${MAX_RATIO}x the bare loop`);
for (const r of results) {
  const ratio = r.engine.wallMs / r.bareMs;
  console.log(`  ${r.mode.label}: ${fixed(ratio)}x ${ratio <= MAX_RATIO ? 'met' : 'NOT MET'}`);
}
