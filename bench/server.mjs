#!/usr/bin/env node
// `npm run bench:server`: the server's two figures against their bare limits (issue 3).
//  (a) callback throughput: TASK_STATUS posts per second, each written durably before its 200,
//      to one running task's callback URL, against a bare Fastify route that does nothing;
//  (b) run start latency: POST /v1/workflows/:name/runs to the component's process running,
//      against a bare child_process.spawn of the same command.
// The server (`pilotage serve`, built CLI) and the bare Fastify run pinned to CPU 0; this process
// (the load generator) to CPU 1. See bench/README.md ("The server") for what each figure means.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, watch } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { loadNow, machineLine, median, positiveEnv, quantile } from './common.mjs';
import { apiClient, cli, startServe as startServeChild, stopChild, until } from './serve-child.mjs';
import { fixed, formatTable } from './table.mjs';

/** The targets of issue 3. */
const MIN_CALLBACKS_PER_S = 10_000;
const MAX_START_P50_MS = 20;

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const durationS = positiveEnv('BENCH_DURATION', 10);
const connections = positiveEnv('BENCH_CONNECTIONS', 16);
const rounds = positiveEnv('BENCH_ROUNDS', 3);
const manyTasks = positiveEnv('BENCH_TASKS', 16);
// BENCH_PARTS: which measurements, `a` (callbacks), `b` (start latency) or both (default)
const parts = process.env['BENCH_PARTS'] ?? 'ab';
const startRuns = positiveEnv('BENCH_RUNS', 200);
const CLOCK_TICKS_PER_S = 100;
const STATUS_BODY = JSON.stringify({ message: 'x', progress: 0.5 });
const STAMP_SCRIPT = 'printf %s "$EPOCHREALTIME" > "$CO_INPUT_OUT"';
const progress = (text) => process.stderr.write(`${text}\n`);

if (!existsSync(cli)) {
  progress(`build first (npm run build): ${cli} is missing`);
  process.exit(1);
}
const pinned = pinSelf();
const dir = await mkdtemp(join(tmpdir(), 'pilotage-bench-server-'));
const children = new Set();
let server;
try {
  server = await startServe(dir);
  const api = apiClient(server.url, server.token);

  const callbacks = parts.includes('a') ? await measureCallbacks(api) : undefined;
  const starts = parts.includes('b') ? await measureStarts(api, dir) : undefined;
  const bareStarts = parts.includes('b') ? await measureBareSpawns(dir) : undefined;

  progress('stopping the server (SIGTERM) and reading its store...');
  await stopChild(server.child);
  const facts = readStore(join(dir, 'pilotage.db'), callbacks?.taskRunIds ?? [], starts?.runIds ?? []);
  report({ callbacks, stored: facts.statuses, starts, bareStarts, facts, pinned });
} catch (error) {
  progress(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  if (server) progress(`server output:\n${server.output()}`);
  process.exitCode = 1;
} finally {
  for (const child of children) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
}

/** Pin this process (the load generator) to CPU 1 so the server has CPU 0 to itself. */
function pinSelf() {
  if (cpus().length < 2 || !hasTaskset()) return false;
  execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });
  return true;
}

function hasTaskset() {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `node args…` on CPU 0 (when pinning works), its output kept. */
function spawnPinned(args, env) {
  const [file, argv] = pinned ? ['taskset', ['-c', '0', process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(file, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (c) => (text += c.toString()));
  child.stderr.on('data', (c) => (text += c.toString()));
  children.add(child);
  child.once('exit', () => children.delete(child));
  return { child, output: () => text };
}

async function startServe(folder) {
  // BENCH_PROFILE=<folder>: the server writes a V8 CPU profile there when it stops
  const profile = process.env['BENCH_PROFILE'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROFILE']}`] : [];
  const started = await startServeChild({
    folder,
    nodeArgs: profile,
    command: (file, argv) => (pinned ? ['taskset', ['-c', '0', file, ...argv]] : [file, argv]),
    env: {
      // the per-task caps (10,000 reports by default) would drop most of the bench's posts: lifted,
      // so that every acknowledged post must be a stored row (the durability check)
      PILOTAGE_TASK_MAX_STATUSES: '1000000000',
      PILOTAGE_TASK_MAX_STATUS_BYTES: '1024GiB',
    },
  });
  children.add(started.child);
  started.child.once('exit', () => children.delete(started.child));
  return started;
}

async function startBare() {
  const { child, output } = spawnPinned([join(here, 'server-bare.mjs')], {});
  let url;
  await until(async () => (url = /listening (\S+)/.exec(output())?.[1]) !== undefined, 30_000, 'bare Fastify');
  return { child, callbackUrl: `${url}/v1/callbacks/bare-token/task-status` };
}

/** (a): the bare route, one waiting task and `manyTasks` waiting tasks, in alternating rounds. */
async function measureCallbacks(api) {
  progress(`(a) callback throughput: starting one waiting task, and a run of ${manyTasks} waiting tasks...`);
  const one = await holdTasks(api, dir, 'bench-hold', 1);
  const many = await holdTasks(api, dir, 'bench-hold-many', manyTasks);
  const bare = await startBare();
  progress('    warming up (3 s each)...');
  await runCannon([bare.callbackUrl], 3, connections);
  let acknowledged = (await runCannon(one.statusUrls, 3, connections)).ok;
  acknowledged += (await runCannon(many.statusUrls, 3, manyTasks)).ok;
  const results = { bare: [], one: [], many: [] };
  for (let i = 1; i <= rounds; i++) {
    progress(`    round ${i}/${rounds}: bare Fastify, one task, ${manyTasks} tasks, ${durationS} s each...`);
    results.bare.push(await runCannon([bare.callbackUrl], durationS, connections, bare.child.pid));
    const single = await runCannon(one.statusUrls, durationS, connections, server.child.pid);
    const spread = await runCannon(many.statusUrls, durationS, manyTasks, server.child.pid);
    acknowledged += single.ok + spread.ok;
    results.one.push(single);
    results.many.push(spread);
  }
  await stopChild(bare.child);
  await one.release();
  await many.release();
  return { results, acknowledged, taskRunIds: [...one.taskRunIds, ...many.taskRunIds] };
}

/**
 * Apply and start workflow `name`: one stage of `count` actions, each reporting start, writing its
 * TASK_STATUS URL to a file, then waiting until released (then result and stop).
 */
async function holdTasks(api, folder, name, count) {
  const out = join(folder, `${name}-url`);
  const releaseFile = join(folder, `${name}-release`);
  const action = (i) => `      - name: hold-${i}
        timeout: 1h
        run: |
          post() { curl -fsS -o /dev/null -H 'Content-Type: application/json' -d "$2" "$1"; }
          post "$CO_COMPONENT_START" '{}'
          post "$CO_TASK_START" '{}'
          printf '%s\\n' "$CO_TASK_STATUS" > '${out}-'"$CO_ACTION.tmp" && mv '${out}-'"$CO_ACTION.tmp" '${out}-'"$CO_ACTION"
          while [ ! -e '${releaseFile}' ]; do sleep 0.2; done
          post "$CO_TASK_RESULT" '{"status":"success"}'
          post "$CO_COMPONENT_STOP" '{}'
`;
  const actions = Array.from({ length: count }, (_, i) => action(i + 1)).join('');
  await api(
    'POST',
    '/v1/workflows',
    `apiVersion: pilotage.dev/v1\nkind: Workflow\nname: ${name}\nconcurrency: ${count}\nstages:\n  - name: s\n    actions:\n${actions}`,
    'application/yaml',
  );
  const run = await api('POST', `/v1/workflows/${name}/runs`, JSON.stringify({ data: {} }));
  const files = Array.from({ length: count }, (_, i) => `${out}-hold-${i + 1}`);
  await until(async () => files.every((f) => existsSync(f)), 60_000, `the ${count} waiting task(s) of ${name}`);
  const statusUrls = await Promise.all(files.map(async (f) => (await readFile(f, 'utf8')).trim()));
  const detail = await api('GET', `/v1/runs/${run.id}`);
  const taskRunIds = detail.actions.map((a) => a.attempts[0].id);
  return {
    statusUrls,
    taskRunIds,
    async release() {
      await writeFile(releaseFile, '');
      // the run list, not the run: the run's own answer holds every status posted
      const state = async () => (await api('GET', `/v1/runs?workflow=${name}&limit=1`)).runs[0]?.state;
      const ended = ['succeeded', 'failed', 'errored', 'cancelled'];
      await until(async () => ended.includes(await state()), 60_000, `${name} to end`);
    },
  };
}

/**
 * autocannon on `urls` (connections spread over them) for `seconds`, TASK_STATUS bodies. With
 * `pid`, also the CPU time that process spent per answered request (µs): a figure that other
 * load on a shared machine disturbs far less than the rate.
 */
async function runCannon(urls, seconds, connectionCount, pid) {
  const load = loadNow();
  const cpuBefore = pid === undefined ? 0 : cpuMicros(pid);
  const result = await autocannon({
    url: urls,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: STATUS_BODY,
    connections: connectionCount,
    duration: seconds,
  });
  const ok = result['2xx'];
  return {
    ok,
    cpuPerRequest: pid === undefined || ok === 0 ? NaN : (cpuMicros(pid) - cpuBefore) / ok,
    perSecond: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: result.non2xx + result.errors + result.timeouts,
    load,
  };
}

/** Sequential runs of a registered one-command component that writes its start time first. */
async function measureStarts(api, folder) {
  progress(`(b) run start latency: ${startRuns} runs, one after the other...`);
  await api(
    'POST',
    '/v1/components',
    `apiVersion: pilotage.dev/v1
kind: Component
name: bench-stamp
version: 1.0.0
command: ['/bin/bash', '-c', ${JSON.stringify(STAMP_SCRIPT)}]
inputs:
  type: object
  required: [out]
  properties: { out: { type: string } }
`,
    'application/yaml',
  );
  await api(
    'POST',
    '/v1/workflows',
    `apiVersion: pilotage.dev/v1
kind: Workflow
name: bench-start
inputs:
  type: object
  required: [out]
  properties: { out: { type: string } }
stages:
  - name: s
    actions:
      - name: stamp
        component: bench-stamp@1.0.0
        with: { out: '\${{ inputs.out }}' }
`,
    'application/yaml',
  );
  const once = async (i) => {
    const out = join(folder, `stamp-${i}`);
    const appeared = fileAppears(out);
    const begin = epochMs();
    const run = await api('POST', '/v1/workflows/bench-start/runs', JSON.stringify({ data: { out } }));
    const answered = epochMs();
    await appeared;
    const stamp = (await readStamp(out)) * 1000;
    const state = async () => (await api('GET', `/v1/runs/${run.id}`)).run.state;
    await until(async () => (await state()) === 'succeeded', 30_000, `run ${run.id} to succeed`);
    return { runId: run.id, begin, answerMs: answered - begin, startMs: stamp - begin };
  };
  for (let i = 0; i < 10; i++) await once(`warm-${i}`);
  const samples = [];
  for (let i = 0; i < startRuns; i++) samples.push(await once(i));
  return {
    runIds: samples.map((s) => s.runId),
    begins: new Map(samples.map((s) => [s.runId, s.begin])),
    answer: samples.map((s) => s.answerMs),
    start: samples.map((s) => s.startMs),
  };
}

/** The stamp command by child_process.spawn from this process, as the local executor spawns. */
async function measureBareSpawns(folder) {
  progress(`    the same command by a bare spawn, ${startRuns} times...`);
  const once = async (i) => {
    const out = join(folder, `bare-stamp-${i}`);
    const begin = epochMs();
    await new Promise((resolve, reject) => {
      const child = spawn('/bin/bash', ['-c', STAMP_SCRIPT], {
        env: { ...process.env, CO_INPUT_OUT: out },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.resume();
      child.stderr.resume();
      child.once('error', reject);
      child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`bare stamp exited ${code}`))));
    });
    return (await readStamp(out)) * 1000 - begin;
  };
  for (let i = 0; i < 10; i++) await once(`warm-${i}`);
  const samples = [];
  for (let i = 0; i < startRuns; i++) samples.push(await once(i));
  return samples;
}

/** What the store recorded: statuses of the held task, and each measured run's timestamps. */
function readStore(file, taskRunIds, runIds) {
  const db = new Database(file, { readonly: true });
  try {
    const count = db.prepare('select count(*) as n from statuses where task_run_id = ?');
    const statuses = taskRunIds.reduce((sum, id) => sum + count.get(id).n, 0);
    const taskOf = db.prepare('select created_at, started_at from task_runs where run_id = ?');
    const runOf = db.prepare('select created_at from runs where id = ?');
    const timings = runIds.map((id) => ({ id, run: runOf.get(id), task: taskOf.get(id) }));
    return { statuses, timings };
  } finally {
    db.close();
  }
}

function report({ callbacks, stored, starts, bareStarts, facts, pinned: isPinned }) {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(machineLine());
  out(
    isPinned
      ? 'Server and bare Fastify pinned to CPU 0, load generator to CPU 1.'
      : 'Not pinned (taskset missing or one CPU).',
  );
  const targets = [];
  if (callbacks) {
    const { results, acknowledged } = callbacks;
    out();
    out(`(a) TASK_STATUS callbacks, ${rounds} round(s) of ${durationS} s (median round; its latencies):`);
    const row = (label, conns, rs) => {
      const mid = median(rs.map((r) => r.perSecond));
      const chosen = rs.find((r) => r.perSecond === mid) ?? rs[0];
      const cpu = median(rs.map((r) => r.cpuPerRequest));
      const failed = rs.reduce((sum, r) => sum + r.failed, 0);
      const all = rs.map((r) => fixed(r.perSecond, 0)).join(' / ');
      const loads = rs.map((r) => r.load);
      return [
        label,
        loads.length > 1 ? `${loads[0]}-${loads.at(-1)}` : loads[0],
        String(conns),
        fixed(mid, 0),
        all,
        `${chosen.p50}`,
        `${chosen.p99}`,
        String(failed),
        fixed(cpu, 0),
        fixed(1e6 / cpu, 0),
      ];
    };
    const bareRow = row('bare Fastify route (the limit)', connections, results.bare);
    const oneRow = row('callback route, one task', connections, results.one);
    const manyRow = row(`callback route, ${manyTasks} tasks`, manyTasks, results.many);
    const header = [
      'route',
      'load',
      'conns',
      'req/s',
      'rounds req/s',
      'p50 ms',
      'p99 ms',
      'failed',
      'CPU µs/req',
      'req/CPU-s',
    ];
    out(formatTable([header, bareRow, oneRow, manyRow]));
    out('  load: the 1-minute load average as the first and last rounds of the row began');
    const rate = (r) => Number(r[3]);
    const perCpu = (r) => Number(r[9]);
    const bareRate = rate(bareRow);
    out(
      `  callback/bare: one task ${fixed(rate(oneRow) / bareRate)}x, ${manyTasks} tasks ${fixed(rate(manyRow) / bareRate)}x`,
    );
    const kept = stored >= acknowledged ? 'every acknowledged post is stored' : 'ROWS MISSING';
    out(`  durability: ${acknowledged} posts answered 200, ${stored} status rows stored (${kept})`);
    const verdict = (value) => (value >= MIN_CALLBACKS_PER_S ? 'met' : 'NOT MET');
    for (const [what, r] of [
      ['one task', oneRow],
      [`${manyTasks} tasks`, manyRow],
    ]) {
      targets.push(
        `  callbacks >= ${MIN_CALLBACKS_PER_S}/s, ${what}: ${r[3]}/s ${verdict(rate(r))}; ` +
          `per server CPU-second ${r[9]} ${verdict(perCpu(r))} (load ${r[1]})`,
      );
    }
  }
  if (starts && bareStarts) {
    out();
    out(`(b) run start latency, ${startRuns} runs one after the other (ms):`);
    const pct = (xs) => [
      fixed(quantile(xs, 0.5)),
      fixed(quantile(xs, 0.99)),
      fixed(Math.min(...xs)),
      fixed(Math.max(...xs)),
    ];
    out(
      formatTable([
        ['measure', 'p50', 'p99', 'min', 'max'],
        ['POST .../runs answered (201)', ...pct(starts.answer)],
        ['POST .../runs to process running', ...pct(starts.start)],
        ['bare spawn to process running', ...pct(bareStarts)],
      ]),
    );
    const stamps = new Map(starts.runIds.map((id, i) => [id, starts.start[i]]));
    const segments = facts.timings.map(({ id, run, task }) => {
      const begin = starts.begins.get(id);
      return [
        run.created_at - begin,
        task.created_at - run.created_at,
        task.started_at - task.created_at,
        stamps.get(id) - (task.started_at - begin),
      ];
    });
    const names = [
      'request to run recorded',
      'run recorded to task run recorded',
      'task run recorded to spawned (startedAt)',
      'startedAt to the process writing its stamp',
    ];
    out("  where it goes (the store's timestamps, 1 ms resolution):");
    out(
      formatTable([
        ['segment', 'p50', 'p99'],
        ...names.map((name, k) => {
          const xs = segments.map((s) => s[k]);
          return [name, fixed(quantile(xs, 0.5)), fixed(quantile(xs, 0.99))];
        }),
      ]),
    );
    const p50 = quantile(starts.start, 0.5);
    targets.push(
      `  run start p50 < ${MAX_START_P50_MS} ms: ${fixed(p50)} ms  ${p50 < MAX_START_P50_MS ? 'met' : 'NOT MET'}`,
    );
  }
  out();
  out('Targets (issues 3 and 15):');
  for (const line of targets) out(line);
}

/** Epoch ms with sub-millisecond precision (comparable with bash's $EPOCHREALTIME). */
function epochMs() {
  return performance.timeOrigin + performance.now();
}

/** User + system CPU time of process `pid` so far, µs (from /proc; clock ticks of 10 ms). */
function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is the state (field 3); utime and stime are fields 14 and 15
  return (Number(fields[11]) + Number(fields[12])) * (1e6 / CLOCK_TICKS_PER_S);
}

/** The epoch seconds a stamp file holds, once written (it appears empty, then gets its text). */
async function readStamp(file) {
  let value = NaN;
  await until(async () => (value = Number(await readFile(file, 'utf8'))) > 0, 10_000, `the stamp in ${file}`);
  return value;
}

/** Resolves when `file` exists (inotify on its folder; checked once at the start too). */
function fileAppears(file) {
  return new Promise((resolve) => {
    const watcher = watch(dirname(file), () => {
      if (existsSync(file)) {
        watcher.close();
        resolve();
      }
    });
    if (existsSync(file)) {
      watcher.close();
      resolve();
    }
  });
}
