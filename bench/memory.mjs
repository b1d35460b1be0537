// Memory of an engine carrying many runs (`npm run bench:memory`): what 1,000 runs waiting at an
// approval gate add, and whether the process returns to its baseline once they ended.
// See bench/README.md, "Memory".
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { loadNow, machineLine, positiveEnv } from './common.mjs';
import { createBenchRuntime } from './engine-bench.mjs';
import { fixed, formatTable } from './table.mjs';
import { createApprovalService } from '../packages/engine/dist/service/approval-service.js';
import { compileWorkflow, createFileResolver } from '../packages/engine/dist/plan-files/load.js';

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc (npm run bench:memory does)');
  process.exit(2);
}
const runs = positiveEnv('BENCH_RUNS', 1000);
const cycles = positiveEnv('BENCH_CYCLES', 3);
const WAITING_TARGET_MB = 50;
/** how far above its baseline the settled RSS may stay and still count as "returned", MB */
const RETURN_SLACK_MB = 10;

const dir = await mkdtemp(join(tmpdir(), 'pilotage-bench-memory-'));
const runtime = await createBenchRuntime(dir, 16);
const approvals = createApprovalService({ store: runtime.store, engine: runtime.engine });
const text =
  'apiVersion: pilotage.dev/v1\nkind: Workflow\nname: gated\n' +
  'stages:\n  - name: sign-off\n    type: approval\n    timeout: 24h\n' +
  '  - name: after\n    actions:\n      - name: done\n        run: "true"\n';
const file = join(dir, 'gated.workflow.yaml');
await writeFile(file, text);
const plan = await compileWorkflow(text, file, createFileResolver());

/** RSS and heap after full collections, MB. */
async function settled() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await delay(200);
  }
  const usage = process.memoryUsage();
  return {
    rss: usage.rss / 2 ** 20,
    heapTotal: usage.heapTotal / 2 ** 20,
    heap: usage.heapUsed / 2 ** 20,
    external: usage.external / 2 ** 20,
  };
}

/** Start `count` runs, wait until each waits at its gate, measure, approve them all, wait for their ends. */
async function cycle(count) {
  const ids = [];
  for (let i = 0; i < count; i++) {
    ids.push((await runtime.engine.startRun(plan, {}, { trigger: { kind: 'manual' } })).id);
  }
  for (;;) {
    const waiting = await approvals.waiting();
    if (waiting.length >= count) break;
    await delay(250);
  }
  const atGate = await settled();
  for (const id of ids) await runtime.engine.decide(id, 'sign-off', { approved: true, by: 'bench' });
  for (const id of ids) {
    const run = await runtime.engine.waitForRun(id);
    if (run.state !== 'succeeded') throw new Error(`run ${id} ended ${run.state}: ${run.reason ?? ''}`);
  }
  return atGate;
}

const rows = [];
let baseline;
const loadAtStart = loadNow();
try {
  await cycle(20); // warm-up: every code path loaded and compiled once
  baseline = await settled();
  rows.push(['baseline (after a warm-up of 20 runs)', baseline, undefined]);
  for (let i = 1; i <= cycles; i++) {
    const before = await settled();
    const atGate = await cycle(runs);
    const after = await settled();
    rows.push([`cycle ${i}: ${runs} runs waiting at the gate`, atGate, atGate.rss - before.rss]);
    rows.push([`cycle ${i}: all ended`, after, after.rss - baseline.rss]);
    process.stderr.write(`cycle ${i}/${cycles} done\n`);
  }
} finally {
  await runtime.close();
  await rm(dir, { recursive: true, force: true });
}

console.log(`Memory of one engine process (SQLite file store, local executor), ${runs} runs per cycle, MB`);
console.log(machineLine());
console.log(`load average (1 min) ${loadAtStart} at the start, ${loadNow()} at the end`);
console.log(
  formatTable([
    ['moment', 'RSS', 'V8 heap', 'heap used', 'external', 'RSS added'],
    ...rows.map(([label, m, added]) => [
      label,
      fixed(m.rss, 1),
      fixed(m.heapTotal, 1),
      fixed(m.heap, 1),
      fixed(m.external, 1),
      added === undefined ? '-' : fixed(added, 1),
    ]),
  ]),
);
const gateAdds = rows.filter(([label]) => label.includes('waiting')).map(([, , added]) => added);
const ends = rows.filter(([label]) => label.includes('ended')).map(([, m]) => m.rss - baseline.rss);
const worstGate = Math.max(...gateAdds);
const lastEnd = ends[ends.length - 1];
console.log(
  `\nTargets (issue 15, target 6):\n` +
    `  ${runs} runs waiting at an approval gate add <= ${WAITING_TARGET_MB} MB: worst cycle ${fixed(worstGate, 1)} MB ` +
    `${worstGate <= WAITING_TARGET_MB ? 'met' : 'NOT MET'}\n` +
    `  RSS returns to its baseline once runs end (within ${RETURN_SLACK_MB} MB, and no growth from cycle to cycle): ` +
    `after each cycle ${ends.map((e) => `${e >= 0 ? '+' : ''}${fixed(e, 1)}`).join(', ')} MB ` +
    `${lastEnd <= RETURN_SLACK_MB && (ends.length < 2 || lastEnd - ends[0] <= RETURN_SLACK_MB / 2) ? 'met' : 'NOT MET'}`,
);
