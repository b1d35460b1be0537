#!/usr/bin/env node
// `npm run bench:peers` (opt-in): Pilotage's per-step cost beside its peers' (issue 15, target 1).
// Every system runs N steps of `sh -c 'echo x'`, one at a time (sequential) and all at once
// (parallel), and one step alone; per-step cost = (T(N) - T(1)) / (N - 1). Systems:
//  - a Node spawn loop: the same steps spawned from a small fresh Node process by
//    node:child_process as the local executor does (the floor of an engine written in Node);
//  - a bare bash loop (the limit), GNU make and Snakemake (Debian packages; installed with apt-get
//    when missing and this process is root), timed by hyperfine (also from Debian);
//  - Node-RED (installed from npm into a temp folder, never into the project's dependencies),
//    an HTTP-triggered flow, timed from the request to its answer;
//  - `pilotage run FILE` (the built CLI, its default SQLite file store), timed by hyperfine;
//  - `pilotage serve`, a run started through the API and followed over SSE to its `end` event.
// Rounds alternate the systems so that all see the same machine load; the median round is kept.
// CPU time (user + system, children included) is printed beside wall time: on a shared machine it
// moves far less. See bench/README.md ("Peers").
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { freePort, loadNow, machineLine, median, nonNegativeEnv, positiveEnv } from './common.mjs';
import { fixed, formatTable } from './table.mjs';

/** Issue 15, target 1: Pilotage's per-step cost at most this times the bare loop's. */
const MAX_RATIO = 1.5;
const NODE_RED_VERSION = '4.1.8';
const STEP = `sh -c 'echo x'`;
const CLOCK_TICKS_PER_S = 100;

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const cli = process.env['BENCH_CLI'] ?? join(root, 'packages/engine/dist/bundle/pilotage.js');
const n = positiveEnv('BENCH_N', 100);
const rounds = positiveEnv('BENCH_ROUNDS', 3);
const runsPerRound = positiveEnv('BENCH_RUNS', 2);
// A server (Node-RED, pilotage serve) runs each cell this many times after it starts, and
// BENCH_REWARM_RUNS times again just before each of its timed rounds (the other systems' rounds
// leave it idle for seconds): it is measured as a busy server is, its JIT settled and its memory
// not given back (bench/README.md, "Peers"). 0 and 0: timed as it comes.
const warmRuns = nonNegativeEnv('BENCH_WARM_RUNS', 20);
const rewarmRuns = nonNegativeEnv('BENCH_REWARM_RUNS', 5);
// BENCH_SYSTEMS: a comma-separated subset of the systems' keys (default: all)
const only = process.env['BENCH_SYSTEMS']?.split(',').map((key) => key.trim());
// Node-RED is kept between runs of the bench here (installing it takes about a minute)
const cacheDir = join(tmpdir(), 'pilotage-bench-peers');
const progress = (text) => process.stderr.write(`${text}\n`);

if (n < 2) {
  progress('BENCH_N must be at least 2');
  process.exit(2);
}
if (!existsSync(cli)) {
  progress(`build first (npm run build): ${cli} is missing`);
  process.exit(1);
}

/** The cells each system is timed on: one step, N one at a time, N all at once. */
const CELLS = [
  { key: 'one', steps: 1, parallel: false },
  { key: 'seq', steps: n, parallel: false },
  { key: 'par', steps: n, parallel: true },
];

const dir = await mkdtemp(join(tmpdir(), 'pilotage-bench-peers-'));
const children = new Set();
const systems = [];
const skipped = [];
/** per system: the 1-minute load average as each of its rounds began */
const loads = new Map();
/** per warmed server: the wall time of its first run of each cell after it started, ms */
const firstRuns = new Map();
try {
  if (!ensureDebian('hyperfine', 'hyperfine')) throw new Error('hyperfine is missing and cannot be installed here');
  for (const make of [bashLoop, nodeLoop, gnuMake, snakemake, nodeRed, pilotageRun, pilotageServe]) {
    const system = await make();
    if (only !== undefined && !only.includes(system.key)) continue;
    const missing = await system.prepare?.();
    if (typeof missing === 'string') skipped.push({ label: system.label, why: missing });
    else systems.push(system);
  }
  const results = new Map(systems.map((s) => [s.key, Object.fromEntries(CELLS.map((c) => [c.key, []]))]));
  for (const system of systems) loads.set(system.key, []);
  for (const system of systems.filter((s) => s.warm !== undefined && warmRuns > 0)) {
    progress(`warming ${system.label} (${warmRuns} runs of each cell)...`);
    firstRuns.set(system.key, await system.warm(warmRuns));
  }
  for (let round = 1; round <= rounds; round++) {
    // rotate the order so that no system always comes first after another's heavy round
    const order = systems.map((_, i) => systems[(i + round - 1) % systems.length]);
    for (const system of order) {
      progress(`round ${round}/${rounds}: ${system.label}...`);
      if (system.warm !== undefined && rewarmRuns > 0) await system.warm(rewarmRuns);
      loads.get(system.key).push(loadNow());
      const timed = await system.time();
      for (const cell of CELLS) results.get(system.key)[cell.key].push(timed[cell.key]);
    }
  }
  report(results);
} catch (error) {
  progress(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  for (const system of systems) await system.close?.();
  for (const child of children) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// The systems. Each has `key`, `label`, an optional `prepare()` (a string: why it is skipped),
// `time()` → {one, seq, par}: each {wallMs, cpuMs}, the mean of `runsPerRound` runs, and `close()`.

function bashLoop() {
  const loop = (steps, parallel) =>
    parallel
      ? `bash -c 'for i in $(seq ${steps}); do sh -c "echo x" & done; wait'`
      : `bash -c 'for i in $(seq ${steps}); do sh -c "echo x"; done'`;
  return hyperfineSystem('bash', 'bare bash loop (the limit)', loop);
}

/**
 * The same steps spawned by a small, fresh Node process with nothing but node:child_process, as
 * the local executor starts a component (its own process group, stdin closed, stdout and stderr
 * piped and read to the end, done at 'close'): the floor of any engine that starts processes from
 * Node. Its per step beside the bash loop's says how much of the 1.5x target Node itself uses.
 */
function nodeLoop() {
  const script = join(dir, 'node-loop.cjs');
  const system = hyperfineSystem(
    'node',
    "Node spawn loop (a Node engine's floor)",
    (steps, parallel) => `${process.execPath} ${script} ${steps} ${parallel ? 'par' : 'seq'}`,
  );
  return {
    ...system,
    async prepare() {
      await writeFile(
        script,
        [
          "const { spawn } = require('node:child_process');",
          'const [steps, mode] = [Number(process.argv[2]), process.argv[3]];',
          'const one = () => new Promise((resolve, reject) => {',
          `  const child = spawn('sh', ['-c', 'echo x'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });`,
          '  child.stdout.resume();',
          '  child.stderr.resume();',
          "  child.once('error', reject);",
          "  child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));",
          '});',
          '(async () => {',
          "  if (mode === 'par') await Promise.all(Array.from({ length: steps }, one));",
          '  else for (let i = 0; i < steps; i++) await one();',
          '})().catch((error) => { console.error(error); process.exit(1); });',
          '',
        ].join('\n'),
      );
    },
  };
}

function gnuMake() {
  const makefile = join(dir, 'Makefile');
  return {
    ...hyperfineSystem('make', 'GNU make', (steps, parallel) =>
      [`make -s -f ${makefile}`, `-j${parallel ? steps : 1}`, `N=${steps}`].join(' '),
    ),
    async prepare() {
      if (!ensureDebian('make', 'make')) return 'make is missing and cannot be installed here';
      const steps = 'STEPS := $(addprefix s,$(shell seq $(N)))';
      await writeFile(makefile, `${steps}\n.PHONY: all $(STEPS)\nall: $(STEPS)\n$(STEPS):\n\t@${STEP}\n`);
    },
  };
}

function snakemake() {
  const folder = join(dir, 'snakemake');
  const system = hyperfineSystem('snakemake', 'Snakemake', (steps, parallel) =>
    [
      `snakemake -s ${join(folder, 'Snakefile')} -d ${folder}`,
      `--cores ${parallel ? steps : 1} --config n=${steps} --forceall --quiet all`,
    ].join(' '),
  );
  return {
    ...system,
    async prepare() {
      if (!ensureDebian('snakemake', 'snakemake')) return 'snakemake is missing and cannot be installed here';
      system.version = firstLine('snakemake', ['--version']);
      await mkdir(folder);
      await writeFile(
        join(folder, 'Snakefile'),
        'N = int(config["n"])\nrule all:\n    input: expand("out/{i}", i=range(N))\n' +
          `rule step:\n    output: "out/{i}"\n    shell: "${STEP} > {output}"\n`,
      );
    },
    get label() {
      return `Snakemake ${system.version ?? ''}`.trim();
    },
  };
}

function pilotageRun() {
  const files = {
    one: join(dir, 'run-one.yaml'),
    seq: join(dir, 'run-seq.yaml'),
    par: join(dir, 'run-par.yaml'),
  };
  const system = hyperfineSystem(
    'run',
    'pilotage run',
    (steps, parallel) => `${process.execPath} ${cli} run ${files[cellKey(steps, parallel)]}`,
    // its default store: a SQLite file under XDG_DATA_HOME, as a user would have it
    {
      XDG_DATA_HOME: join(dir, 'run-data'),
      XDG_CONFIG_HOME: join(dir, 'run-config'),
      PILOTAGE_MAX_PARALLEL: String(n),
    },
  );
  return {
    ...system,
    async prepare() {
      for (const cell of CELLS) await writeFile(files[cell.key], workflowText(`run-${cell.key}`, cell));
    },
  };
}

async function nodeRed() {
  const folder = join(cacheDir, `node-red-${NODE_RED_VERSION}`);
  const userDir = join(dir, 'node-red');
  let server;
  return {
    key: 'node-red',
    label: `Node-RED ${NODE_RED_VERSION} (HTTP-triggered)`,
    async prepare() {
      const main = join(folder, 'node_modules/node-red/red.js');
      if (!existsSync(main)) {
        progress(`installing node-red@${NODE_RED_VERSION} from npm into ${folder} (once; about a minute)...`);
        await mkdir(folder, { recursive: true });
        await writeFile(join(folder, 'package.json'), '{"private":true}\n');
        const npm = spawnSync(
          'npm',
          ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', folder, `node-red@${NODE_RED_VERSION}`],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        if (npm.status !== 0) return `npm install node-red failed: ${String(npm.stderr).slice(-500)}`;
      }
      await mkdir(userDir);
      const port = await freePort();
      await writeFile(
        join(userDir, 'settings.js'),
        `module.exports = ${JSON.stringify({
          uiPort: port,
          uiHost: '127.0.0.1',
          flowFile: 'flows.json',
          httpAdminRoot: false,
          credentialSecret: false,
          logging: { console: { level: 'warn', metrics: false, audit: false } },
          diagnostics: { enabled: false },
          telemetry: { enabled: false },
          externalModules: { autoInstall: false },
        })};\n`,
      );
      await writeFile(join(userDir, 'flows.json'), JSON.stringify(nodeRedFlows()));
      server = startChild(process.execPath, [main, '--userDir', userDir, '--settings', join(userDir, 'settings.js')]);
      const base = `http://127.0.0.1:${port}`;
      await until(
        async () => (await httpCall('GET', `${base}/steps/one`).catch(() => undefined))?.status === 200,
        60_000,
      ).catch((error) => {
        throw new Error(`Node-RED did not answer: ${error.message}; its output:\n${server.output()}`);
      });
      this.trigger = async (cell) => {
        const answer = await httpCall('GET', `${base}/steps/${cell.key}`);
        if (answer.status !== 200) throw new Error(`Node-RED answered ${answer.status}: ${answer.body}`);
      };
    },
    ...serverTiming(() => server.child.pid),
    async close() {
      if (server !== undefined) await stopChild(server.child);
    },
  };
}

async function pilotageServe() {
  let server;
  let api;
  return {
    key: 'serve',
    label: 'pilotage serve (API + SSE)',
    async prepare() {
      const folder = join(dir, 'serve');
      await mkdir(folder);
      const port = await freePort();
      server = startChild(process.execPath, [cli, 'serve', '--port', String(port)], {
        PILOTAGE_DB: join(folder, 'pilotage.db'),
        PILOTAGE_DATA_DIR: folder,
        PILOTAGE_EXECUTOR: 'local',
        PILOTAGE_LOG_LEVEL: 'warn',
        PILOTAGE_MAX_PARALLEL: String(n),
        XDG_CONFIG_HOME: join(folder, 'config'),
      });
      const base = `http://127.0.0.1:${port}`;
      await until(
        async () => (await httpCall('GET', `${base}/readyz`).catch(() => undefined))?.status === 200,
        60_000,
      ).catch((error) => {
        throw new Error(`pilotage serve did not answer: ${error.message}; its output:\n${server.output()}`);
      });
      const token = (await readFile(join(folder, 'admin-token'), 'utf8')).trim();
      api = (method, path, body, type = 'application/json') =>
        httpCall(method, `${base}${path}`, body, { authorization: `Bearer ${token}`, 'content-type': type });
      for (const cell of CELLS) {
        const applied = await api('POST', '/v1/workflows', workflowText(`serve-${cell.key}`, cell), 'application/yaml');
        if (applied.status >= 300) throw new Error(`applying serve-${cell.key}: ${applied.status} ${applied.body}`);
      }
    },
    ...serverTiming(() => server.child.pid),
    async trigger(cell) {
      const started = await api('POST', `/v1/workflows/serve-${cell.key}/runs`, '{"data":{}}');
      if (started.status !== 201) throw new Error(`starting a run: ${started.status} ${started.body}`);
      const { id } = JSON.parse(started.body);
      // the stream sends a snapshot, the updates, then `end` and closes
      const stream = await api('GET', `/v1/runs/${id}/events`);
      const end = /event: end\ndata: (.*)\n/.exec(stream.body);
      const state = end === null ? undefined : JSON.parse(end[1]).run.state;
      if (state !== 'succeeded') throw new Error(`run ${id} ended ${state ?? 'without an end event'}`);
    },
    async close() {
      if (server !== undefined) await stopChild(server.child);
    },
  };
}

// ---------------------------------------------------------------------------------------------

/** A system whose three commands hyperfine times (no shell in between: `-N`). */
function hyperfineSystem(key, label, command, env = {}) {
  return {
    key,
    label,
    async time() {
      const json = join(dir, `hyperfine-${key}.json`);
      const commands = CELLS.map((cell) => command(cell.steps, cell.parallel));
      const result = spawnSync(
        'hyperfine',
        ['-N', '--style', 'none', '--runs', String(runsPerRound), '--export-json', json, ...commands],
        { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      if (result.status !== 0) throw new Error(`hyperfine (${label}) failed: ${String(result.stderr).slice(-2000)}`);
      const { results } = JSON.parse(await readFile(json, 'utf8'));
      return Object.fromEntries(
        CELLS.map((cell, i) => [
          cell.key,
          { wallMs: results[i].mean * 1000, cpuMs: (results[i].user + results[i].system) * 1000 },
        ]),
      );
    },
  };
}

/**
 * Times `trigger(cell)` (resolves when the server has done the cell's work), `runsPerRound` times
 * per cell: wall time in this process, CPU time of the server process and the children it reaped.
 */
async function timeServer(pid, trigger) {
  const timed = {};
  for (const cell of CELLS) {
    const cpuBefore = cpuMs(pid);
    const begin = performance.now();
    for (let i = 0; i < runsPerRound; i++) await trigger(cell);
    timed[cell.key] = {
      wallMs: (performance.now() - begin) / runsPerRound,
      cpuMs: (cpuMs(pid) - cpuBefore) / runsPerRound,
    };
  }
  return timed;
}

/**
 * `warm` and `time` of a server system: its `trigger(cell)` runs one cell through the server,
 * whose process is `pid()` (the CPU it and its reaped children used is counted).
 */
function serverTiming(pid) {
  return {
    warm(runs) {
      return warmServer(runs, (cell) => this.trigger(cell));
    },
    time() {
      return timeServer(pid(), (cell) => this.trigger(cell));
    },
  };
}

/**
 * Runs each cell `runs` times before a server is timed (the first run of a cell after the server
 * started is several times slower than its settled cost: code not yet compiled by the JIT).
 * Returns the wall time of each cell's first run, ms.
 */
async function warmServer(runs, trigger) {
  const first = {};
  for (const cell of CELLS) {
    for (let i = 0; i < runs; i++) {
      const begin = performance.now();
      await trigger(cell);
      if (i === 0) first[cell.key] = performance.now() - begin;
    }
  }
  return first;
}

function cellKey(steps, parallel) {
  return steps === 1 ? 'one' : parallel ? 'par' : 'seq';
}

/** A Pilotage workflow of `cell.steps` inline actions in one stage, all at once or one at a time. */
function workflowText(name, cell) {
  const actions = Array.from({ length: cell.steps }, (_, i) => `      - { name: s${i + 1}, run: "echo x" }\n`);
  return (
    `apiVersion: pilotage.dev/v1\nkind: Workflow\nname: ${name}\nconcurrency: ${cell.parallel ? cell.steps : 1}\n` +
    `stages:\n  - name: steps\n    actions:\n${actions.join('')}`
  );
}

/**
 * Node-RED flows, one per cell, each behind `GET /steps/<cell>`: exec nodes in spawn mode
 * (`sh -c "echo x"`, one process per step), chained on their return-code output (one at a time),
 * or all fed by the request and joined (all at once); the answer is sent when the last step ended.
 */
function nodeRedFlows() {
  const nodes = [{ id: 'tab', type: 'tab', label: 'bench' }];
  const exec = (id, wires) => ({
    id,
    type: 'exec',
    z: 'tab',
    command: 'sh',
    addpay: '',
    append: '-c "echo x"',
    useSpawn: 'true',
    timer: '',
    winHide: false,
    oldrc: false,
    name: '',
    wires: [[], [], wires],
  });
  for (const cell of CELLS) {
    const id = (suffix) => `${cell.key}-${suffix}`;
    const steps = Array.from({ length: cell.steps }, (_, i) => id(`step${i}`));
    nodes.push({ id: id('out'), type: 'http response', z: 'tab', statusCode: '', headers: {}, wires: [] });
    if (cell.parallel) {
      nodes.push({
        id: id('in'),
        type: 'http in',
        z: 'tab',
        url: `/steps/${cell.key}`,
        method: 'get',
        upload: false,
        wires: [steps],
      });
      for (const step of steps) nodes.push(exec(step, [id('join')]));
      nodes.push({
        id: id('join'),
        type: 'join',
        z: 'tab',
        mode: 'custom',
        build: 'array',
        property: 'payload',
        propertyType: 'msg',
        key: 'topic',
        joiner: '\\n',
        joinerType: 'str',
        accumulate: false,
        timeout: '',
        count: String(cell.steps),
        reduceRight: false,
        wires: [[id('out')]],
      });
    } else {
      nodes.push({
        id: id('in'),
        type: 'http in',
        z: 'tab',
        url: `/steps/${cell.key}`,
        method: 'get',
        upload: false,
        wires: [[steps[0]]],
      });
      steps.forEach((step, i) => nodes.push(exec(step, [steps[i + 1] ?? id('out')])));
    }
  }
  return nodes;
}

// ---------------------------------------------------------------------------------------------

function report(results) {
  const mid = (key, cell, what) => median(results.get(key)[cell].map((t) => t[what]));
  const perStep = (key, cell, what) => (mid(key, cell, what) - mid(key, 'one', what)) / (n - 1);
  const out = (line = '') => console.log(line);
  out(`Pilotage beside its peers, ${new Date().toISOString().slice(0, 16).replace('T', ' ')}: ${n} steps of ${STEP}`);
  out(machineLine());
  out(`${rounds} alternate round(s) of ${runsPerRound} run(s) per cell; median round; ms`);
  out();
  const rows = [
    ['system', 'load', '1 step', 'seq per step', 'par per step', 'CPU 1 step', 'CPU seq/step', 'CPU par/step'],
    ...systems.map((s) => [
      s.label,
      loads.get(s.key).join(', '),
      fixed(mid(s.key, 'one', 'wallMs'), 0),
      fixed(perStep(s.key, 'seq', 'wallMs')),
      fixed(perStep(s.key, 'par', 'wallMs')),
      fixed(mid(s.key, 'one', 'cpuMs'), 0),
      fixed(perStep(s.key, 'seq', 'cpuMs')),
      fixed(perStep(s.key, 'par', 'cpuMs')),
    ]),
  ];
  out(formatTable(rows));
  out();
  out('load: the 1-minute load average as each round of the system began (a shared machine).');
  out('per step = (T(N) - T(1)) / (N - 1). CPU: user + system of the command and its children (hyperfine),');
  out("or of the server process and the children it reaped (Node-RED, pilotage serve: the client's not counted).");
  if (firstRuns.size > 0) {
    out(
      `Servers are timed warm: ${warmRuns} runs of each cell after start, ${rewarmRuns} more before each round. ` +
        'Their first run after start (wall, ms):',
    );
    for (const [key, first] of firstRuns) {
      const label = systems.find((s) => s.key === key).label;
      out(
        `  ${label}: 1 step ${fixed(first.one, 0)}, ${n} in sequence ${fixed(first.seq, 0)}, ${n} at once ${fixed(first.par, 0)}`,
      );
    }
  }
  for (const { label, why } of skipped) out(`skipped ${label}: ${why}`);

  const has = (key) => results.has(key);
  if (!has('bash')) return;
  out();
  out(`Targets (issue 15, target 1): per step <= ${MAX_RATIO}x the bare loop, and below Snakemake and Node-RED:`);
  const verdict = (ok) => (ok ? 'met' : 'NOT MET');
  for (const ours of ['run', 'serve'].filter(has)) {
    const label = systems.find((s) => s.key === ours).label;
    for (const [cell, mode] of [
      ['seq', 'sequential'],
      ['par', 'parallel'],
    ]) {
      for (const [what, unit] of [
        ['wallMs', 'wall'],
        ['cpuMs', 'CPU'],
      ]) {
        const mine = perStep(ours, cell, what);
        const bare = perStep('bash', cell, what);
        const parts = [
          `${fixed(mine / bare)}x the bare loop (${fixed(mine)} vs ${fixed(bare)} ms) ${verdict(mine <= MAX_RATIO * bare)}`,
        ];
        for (const peer of ['snakemake', 'node-red'].filter(has)) {
          const theirs = perStep(peer, cell, what);
          parts.push(`${peer} ${fixed(theirs)} ms ${verdict(mine < theirs)}`);
        }
        // not a target: how far Node's own spawning already is from the bare loop
        if (has('node')) parts.push(`(Node spawn loop: ${fixed(perStep('node', cell, what) / bare)}x)`);
        out(`  ${label}, ${mode}, ${unit}: ${parts.join('; ')}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------

/** True when `binary` is on PATH, after `apt-get install -y pkg` if it was not and we are root. */
function ensureDebian(pkg, binary) {
  const found = () => spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
  if (found()) return true;
  if (process.getuid?.() !== 0) return false;
  progress(`installing ${pkg} (apt-get)...`);
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-qq', pkg], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', 'ignore', 'inherit'],
    }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'] });
    install();
  }
  return found();
}

function firstLine(file, args) {
  return execFileSync(file, args, { encoding: 'utf8' }).split('\n')[0].trim();
}

function startChild(file, args, env = {}) {
  const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (c) => (text = (text + c.toString()).slice(-20_000)));
  child.stderr.on('data', (c) => (text = (text + c.toString()).slice(-20_000)));
  children.add(child);
  child.once('exit', () => children.delete(child));
  return { child, output: () => text };
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const forced = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return exited.finally(() => clearTimeout(forced));
}

/** User + system CPU time of `pid` and of the children it waited for, ms (clock ticks of 10 ms). */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime, stime, cutime, cstime are fields 14 to 17
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return ticks * (1000 / CLOCK_TICKS_PER_S);
}

/** One HTTP request over a fresh connection; resolves with the status and the whole body. */
function httpCall(method, url, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function until(check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
