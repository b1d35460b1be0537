#!/usr/bin/env node
// `npm run bench:startup`: how long the CLI takes to start, against `node -e 0` (the bare limit of
// starting Node at all), measured in the same rounds: `pilotage --version`, `pilotage --help`, a
// one-action `pilotage run` (local executor, in-memory store, plain output) and `pilotage runs
// list` on an empty store. Rounds alternate the commands so that all see the same machine load;
// the minimum and median of each are printed, with the targets of issue 15, and the median CPU time
// (user + system, reported by each process as it exits: bench/cpu-at-exit.mjs), which a loaded
// machine moves far less than wall time.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine, median, positiveEnv } from './common.mjs';
import { fixed, formatTable } from './table.mjs';

/** Issue 15, target 2: ms. */
const TARGETS = { version: 150, run: 300, runMemory: 300 };

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = process.env['BENCH_CLI'] ?? join(root, 'packages/engine/dist/bundle/pilotage.js');
const rounds = positiveEnv('BENCH_ROUNDS', 15);
const dir = await mkdtemp(join(tmpdir(), 'pilotage-startup-'));
const workflow = join(dir, 'one.yaml');
await writeFile(
  workflow,
  'apiVersion: pilotage.dev/v1\nkind: Workflow\nname: one\nstages:\n  - name: s\n    actions:\n      - { name: a, run: "true" }\n',
);
const env = { ...process.env, XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'data') };
const commands = [
  { key: 'node', label: 'node -e 0', args: ['-e', '0'] },
  { key: 'version', label: 'pilotage --version', args: [cli, '--version'] },
  { key: 'help', label: 'pilotage --help', args: [cli, '--help'] },
  // as a user runs it: its default store, a SQLite file under XDG_DATA_HOME, up to date after round 0
  { key: 'run', label: 'pilotage run (one action)', args: [cli, 'run', workflow, '--plain'] },
  // an empty in-memory store each time: every migration runs too (the figure before session 9)
  {
    key: 'runMemory',
    label: 'pilotage run (one action, --db :memory:)',
    args: [cli, 'run', workflow, '--db', ':memory:', '--plain'],
  },
  { key: 'list', label: 'pilotage runs list', args: [cli, 'runs', 'list', '--db', join(dir, 'empty.db')] },
];
const times = Object.fromEntries(commands.map((c) => [c.key, []]));
const cpu = Object.fromEntries(commands.map((c) => [c.key, []]));
const preload = join(root, 'bench/cpu-at-exit.mjs');
try {
  process.stderr.write(`${rounds} rounds of ${commands.length} commands...\n`);
  for (let round = 0; round <= rounds; round++) {
    for (const command of commands) {
      const begin = process.hrtime.bigint();
      const result = spawnSync(process.execPath, ['--import', preload, ...command.args], {
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const ms = Number(process.hrtime.bigint() - begin) / 1e6;
      if (result.status !== 0) throw new Error(`${command.label} failed: ${result.stderr}`);
      const used = /cpu-at-exit (\d+)/.exec(String(result.stderr));
      // round 0 warms the file cache
      if (round > 0) {
        times[command.key].push(ms);
        cpu[command.key].push(Number(used?.[1] ?? NaN) / 1000);
      }
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const min = (key) => Math.min(...times[key]);
const med = (key) => median(times[key]);
console.log(`Pilotage start-up, ${new Date().toISOString().slice(0, 10)}: ${rounds} rounds, ms`);
console.log(machineLine());
console.log(
  formatTable([
    ['command', 'min', 'median', 'min - node', 'median / node', 'CPU median'],
    ...commands.map((c) => [
      c.label,
      fixed(min(c.key), 0),
      fixed(med(c.key), 0),
      fixed(min(c.key) - min('node'), 0),
      `${fixed(med(c.key) / med('node'))}x`,
      fixed(median(cpu[c.key]), 0),
    ]),
  ]),
);
const verdict = (ok) => (ok ? 'met' : 'NOT MET');
console.log('\nTargets (issue 15, target 2), wall time (median; minimum) and CPU time (median):');
for (const key of ['version', 'run', 'runMemory']) {
  const label = commands.find((c) => c.key === key).label;
  const cpuMs = median(cpu[key]);
  console.log(
    `  ${label} <= ${TARGETS[key]} ms: wall ${fixed(med(key), 0)} ms ${verdict(med(key) <= TARGETS[key])}; ` +
      `min ${fixed(min(key), 0)} ms ${verdict(min(key) <= TARGETS[key])}; CPU ${fixed(cpuMs, 0)} ms ${verdict(cpuMs <= TARGETS[key])}`,
  );
}
console.log(
  `  (node -e 0 took ${fixed(med('node'), 0)} ms here; the issue measured 96 ms: ` +
    `scaled to that, the targets are ${fixed((TARGETS.version * med('node')) / 96, 0)} and ${fixed((TARGETS.run * med('node')) / 96, 0)} ms)`,
);
