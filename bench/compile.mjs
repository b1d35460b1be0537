#!/usr/bin/env node
// Compile time and event-loop blocking for large workflows (issue 12 item 3, issue 15 item 5).
// For 100, 1,000 and 10,000 actions (10 per stage, each reading an action of the stage before):
//   - `pilotage validate FILE` as a fresh process (wall time, Node's start-up included);
//   - the compile alone in this process, CPU time (median of 3 after one warm-up);
//   - a server applying the file over HTTP: the apply's wall time, and the longest the server's
//     event loop was blocked meanwhile (perf_hooks' event-loop delay, 5 ms resolution).
// Run after `npm run build`: node bench/compile.mjs   (BENCH_SIZES=100,1000 to choose sizes)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { machineLine, median } from './common.mjs';
import { fixed, formatTable } from './table.mjs';

const root = new URL('..', import.meta.url).pathname;
const dist = (path) => join(root, 'packages/engine/dist', path);
const { compileWorkflow, createFileResolver } = await import(dist('plan-files/load.js'));
const { startServer } = await import(dist('serve.js'));
const { loadConfig } = await import(dist('config/config.js'));

const sizes = (process.env.BENCH_SIZES ?? '100,1000,10000').split(',').map(Number);
const dir = mkdtempSync(join(tmpdir(), 'pilotage-bench-compile-'));

/** The same shape as packages/engine/test/support/large-workflow.ts. */
function largeWorkflow(stages, perStage, name) {
  const lines = ['apiVersion: pilotage.dev/v1', 'kind: Workflow', `name: ${name}`];
  lines.push('inputs: { type: object, properties: { name: { type: string, default: x } } }', 'stages:');
  for (let s = 0; s < stages; s++) {
    lines.push(`  - name: s${s}`, '    actions:');
    for (let a = 0; a < perStage; a++) {
      const read = s === 0 ? '${{ inputs.name }}' : `\${{ actions.a${s - 1}x${a}.status }}`;
      lines.push(`      - name: a${s}x${a}`, '        run: echo hi', `        with: { v: "${read}" }`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function cpuMs(fn) {
  const before = process.cpuUsage();
  fn();
  const spent = process.cpuUsage(before);
  return (spent.user + spent.system) / 1000;
}

const config = loadConfig({
  env: {},
  home: dir,
  flags: { db: join(dir, 'bench.db'), dataDir: dir, port: 0, executor: 'local', logLevel: 'warn' },
});
const server = await startServer(config, { logStream: false });
const { token } = await server.tokens.issue({ name: 'bench', scopes: ['admin'] });

const rows = [['actions', 'stages', 'KiB', 'validate (process)', 'compile CPU', 'apply over HTTP', 'max loop block']];
try {
  for (const actions of sizes) {
    const stages = Math.max(1, actions / 10);
    const name = `bench-${actions}`;
    const text = largeWorkflow(stages, actions / stages, name);
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, text);
    process.stderr.write(`${actions} actions…\n`);

    const started = performance.now();
    const validate = spawnSync(process.execPath, [join(root, 'packages/engine/bin/pilotage.js'), 'validate', file]);
    const validateMs = performance.now() - started;
    if (validate.status !== 0) throw new Error(`validate failed: ${validate.stdout}${validate.stderr}`);

    compileWorkflow(text, file, createFileResolver());
    const compileMs = median([0, 1, 2].map(() => cpuMs(() => compileWorkflow(text, file, createFileResolver()))));

    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const applyStart = performance.now();
    const answer = await fetch(`${server.url}/v1/workflows/${name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/yaml' },
      body: text,
    });
    await answer.arrayBuffer();
    const applyMs = performance.now() - applyStart;
    loop.disable();
    if (answer.status !== 201) throw new Error(`apply answered ${answer.status}`);

    rows.push([
      String(actions),
      String(stages),
      fixed(text.length / 1024, 0),
      `${fixed(validateMs, 0)} ms`,
      `${fixed(compileMs, 0)} ms`,
      `${fixed(applyMs, 0)} ms`,
      `${fixed(loop.max / 1e6, 0)} ms`,
    ]);
  }
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(machineLine());
console.log(formatTable(rows));
