#!/usr/bin/env node
// `npm run bench:memory:serve`: the RSS of a real `pilotage serve` over bursts of runs (issue 15,
// target 6b: the server's RSS returns to its baseline after runs end). Measured from outside, in
// /proc, with no forced collection: what an operator's `ps` would show. See bench/README.md,
// "Memory", for what the baseline is and what each figure means.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { loadNow, machineLine, positiveEnv } from './common.mjs';
import { apiClient, startServe, stopChild, until } from './serve-child.mjs';
import { fixed, formatTable } from './table.mjs';

const runs = positiveEnv('BENCH_RUNS', 1000);
const cycles = positiveEnv('BENCH_CYCLES', 3);
/** how long the server is left idle before each settled measure, s */
const idleS = positiveEnv('BENCH_IDLE_S', 15);
/** requests in flight at once while starting and approving runs */
const PARALLEL = 16;
/** how far above its baseline the settled RSS may stay and still count as "returned", MB */
const RETURN_SLACK_MB = 10;
const WORKFLOW =
  'apiVersion: pilotage.dev/v1\nkind: Workflow\nname: gated\n' +
  'stages:\n  - name: sign-off\n    type: approval\n    timeout: 24h\n' +
  '  - name: after\n    actions:\n      - name: done\n        run: "true"\n';
const progress = (text) => process.stderr.write(`${text}\n`);

/**
 * RSS of `pid` (and its anonymous part: heap and allocator memory, the rest being mapped files
 * such as node's own code) and of its child processes (the local executor's spawner), MB, /proc.
 */
function rssOf(pid) {
  const field = (p, name) =>
    Number(new RegExp(`${name}:\\s+(\\d+)`).exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  let children = 0;
  for (const task of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)) {
    if (task !== '') children += field(task, 'VmRSS');
  }
  return { server: field(pid, 'VmRSS'), anon: field(pid, 'RssAnon'), children };
}

/**
 * The server's V8 heap as its /metrics reports it (prom-client's default metrics), MB: total and
 * used per space, and external memory. Asked at each measure only (an answer costs the server a
 * few milliseconds); BENCH_HEAP=0 leaves it out.
 */
async function heapOf(base, token) {
  if (process.env['BENCH_HEAP'] === '0') return undefined;
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const spaces = {};
  for (const [, kind, space, value] of text.matchAll(
    /^nodejs_heap_space_size_(total|used)_bytes\{space="(\w+)"\} (\S+)$/gm,
  )) {
    spaces[space] = { ...spaces[space], [kind]: Number(value) / 2 ** 20 };
  }
  const external = Number(/^nodejs_external_memory_bytes (\S+)$/m.exec(text)?.[1] ?? NaN) / 2 ** 20;
  return { spaces, external };
}

/** `count` calls of `one(i)`, PARALLEL at a time. */
async function inParallel(count, one) {
  let next = 0;
  const worker = async () => {
    while (next < count) await one(next++);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, count) }, worker));
}

const dir = await mkdtemp(join(tmpdir(), 'pilotage-bench-memory-serve-'));
const loadAtStart = loadNow();
const rows = [];
let serve;
try {
  // BENCH_SERVE_ENV='NAME=value …': more environment for the server (allocator settings to compare)
  const extraEnv = Object.fromEntries(
    (process.env['BENCH_SERVE_ENV'] ?? '')
      .split(/\s+/)
      .filter((pair) => pair.includes('='))
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
  serve = await startServe({ folder: dir, env: extraEnv });
  const api = apiClient(serve.url, serve.token);
  const pid = serve.child.pid;
  await api('POST', '/v1/workflows', WORKFLOW, 'application/yaml');

  /** Start `count` runs, wait until all wait at the gate, measure, approve all, wait until all succeeded. */
  const cycle = async (count) => {
    const ids = new Array(count);
    await inParallel(count, async (i) => {
      ids[i] = (await api('POST', '/v1/workflows/gated/runs', JSON.stringify({ data: {} }))).id;
    });
    await until(async () => (await api('GET', '/v1/approvals')).length >= count, 300_000, `${count} runs at the gate`);
    const atGate = { ...rssOf(pid), heap: await heapOf(serve.url, serve.token) };
    await inParallel(count, (i) => api('POST', `/v1/runs/${ids[i]}/stages/sign-off/approve`, '{}'));
    const open = async (state) => (await api('GET', `/v1/runs?workflow=gated&state=${state}&limit=1`)).runs.length;
    await until(async () => (await open('running')) + (await open('queued')) === 0, 300_000, 'every run to end');
    const failed = await open('failed');
    if (failed > 0) throw new Error('a run of the bench failed');
    return atGate;
  };

  /** RSS once the server has been idle `idleS` seconds, sampled each second meanwhile. */
  const settled = async () => {
    const samples = [];
    for (let s = 0; s < idleS; s++) {
      await delay(1000);
      samples.push(rssOf(pid).server);
    }
    return { ...rssOf(pid), samples, heap: await heapOf(serve.url, serve.token) };
  };

  progress('warm-up: 20 runs through the gate...');
  await cycle(20);
  const baseline = await settled();
  rows.push(['baseline: after a warm-up of 20 runs, then idle', baseline, undefined]);
  for (let i = 1; i <= cycles; i++) {
    progress(`cycle ${i}/${cycles}: ${runs} runs...`);
    const atGate = await cycle(runs);
    const ended = rssOf(pid);
    const after = await settled();
    rows.push([`cycle ${i}: ${runs} runs waiting at the gate`, atGate, undefined]);
    rows.push([`cycle ${i}: all ended (at once)`, ended, ended.server - baseline.server]);
    rows.push([`cycle ${i}: all ended, then idle ${idleS} s`, after, after.server - baseline.server]);
  }
} finally {
  if (serve) await stopChild(serve.child);
  await rm(dir, { recursive: true, force: true });
}

console.log(`RSS of a pilotage serve process (SQLite file store, local executor), ${runs} runs per cycle, MB`);
console.log(machineLine());
console.log(`load average (1 min) ${loadAtStart} at the start, ${loadNow()} at the end`);
console.log(
  formatTable([
    ['moment', 'server RSS', 'anonymous', 'its children', 'added'],
    ...rows.map(([label, m, added]) => [
      label,
      fixed(m.server, 1),
      fixed(m.anon, 1),
      fixed(m.children, 1),
      added === undefined ? '-' : `${added >= 0 ? '+' : ''}${fixed(added, 1)}`,
    ]),
  ]),
);
const idleRows = rows.filter(([label]) => label.startsWith('cycle') && label.includes('then idle'));
console.log('\nserver RSS each second of each idle wait (MB):');
for (const [label, m] of [rows[0], ...idleRows]) {
  console.log(`  ${label.split(':')[0]}: ${m.samples.map((x) => fixed(x, 0)).join(' ')}`);
}
const heapRows = rows.filter(([, m]) => m.heap !== undefined);
if (heapRows.length > 0) {
  const names = Object.keys(heapRows[0][1].heap.spaces);
  console.log("\nthe server's V8 heap at each measure, MB, total/used per space (its /metrics):");
  console.log(
    formatTable([
      ['moment', ...names, 'external'],
      ...heapRows.map(([label, m]) => [
        label,
        ...names.map((n) => `${fixed(m.heap.spaces[n]?.total ?? NaN, 1)}/${fixed(m.heap.spaces[n]?.used ?? NaN, 1)}`),
        fixed(m.heap.external, 1),
      ]),
    ]),
  );
}
// with BENCH_SERVE_ENV='PILOTAGE_LOG_LEVEL=debug': what the server's idle trim reported
const trims = (serve?.output() ?? '').split('\n').filter((line) => line.includes('idle: collected'));
for (const line of trims) console.log(`  server: ${/"msg":"([^"]*)"/.exec(line)?.[1] ?? line}`);
const ends = idleRows.map(([, m]) => m.server - rows[0][1].server);
const last = ends[ends.length - 1];
const met = last <= RETURN_SLACK_MB && ends.every((e) => e <= RETURN_SLACK_MB);
console.log(
  `\nTarget (issue 15, 6b): the server's RSS returns to its baseline (within ${RETURN_SLACK_MB} MB) once runs end ` +
    `and it has been idle ${idleS} s: after each cycle ${ends.map((e) => `${e >= 0 ? '+' : ''}${fixed(e, 1)}`).join(', ')} MB ` +
    `${met ? 'met' : 'NOT MET'}`,
);
