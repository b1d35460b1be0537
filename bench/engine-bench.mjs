import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../packages/engine/dist/config/config.js';
import { createRuntime } from '../packages/engine/dist/main.js';
import { compileWorkflow, createFileResolver } from '../packages/engine/dist/plan-files/load.js';

/**
 * An engine as `pilotage run` builds it (SQLite file store, local executor, loopback callback
 * server), with its database and run workspaces in `dir`. `maxParallel` must be at least the
 * widest run measured, so that the workflow's `concurrency` is the only cap. `flags` are more
 * configuration keys (`otelEndpoint`), `options` runtime options (`tracing`). Call `close()`.
 * @param {string} dir
 * @param {number} maxParallel
 * @param {Record<string, string>} [flags]
 * @param {import('../packages/engine/dist/main.js').RuntimeOptions} [options]
 */
export function createBenchRuntime(dir, maxParallel, flags = {}, options = {}) {
  const config = loadConfig({
    env: {},
    home: dir,
    flags: {
      db: join(dir, 'bench.db'),
      dataDir: dir,
      executor: 'local',
      maxParallel,
      keepWorkspace: false,
      ...flags,
    },
  });
  return createRuntime(config, options);
}

/**
 * Write and compile a workflow of one stage holding `n` actions of `componentFile` (absolute
 * path), at most `concurrency` at a time, on `executor` (default: the engine's). The file goes
 * into `dir`; compiling is not timed.
 * @returns {Promise<import('../packages/engine/dist/plan/types.js').Plan>}
 */
export async function benchPlan({ dir, name, componentFile, n, concurrency, executor }) {
  const actions = Array.from(
    { length: n },
    (_, i) => `      - name: a${i + 1}\n        component: ${JSON.stringify(componentFile)}\n`,
  ).join('');
  const text =
    `apiVersion: pilotage.dev/v1\nkind: Workflow\nname: ${name}\nconcurrency: ${concurrency}\n` +
    (executor === undefined ? '' : `executor: ${executor}\n`) +
    `stages:\n  - name: s\n    actions:\n${actions}`;
  const file = join(dir, `${name}.workflow.yaml`);
  await writeFile(file, text);
  return compileWorkflow(text, file, createFileResolver());
}

/**
 * Carry out `plan` once with event data `data` and time it from `startRun` to `waitForRun` resolving (ms), with the CPU
 * time this process spent meanwhile (`cpuMs`, user + system: the engine's side only). Throws
 * unless the run succeeded. Also returns each task run's `createdAt`/`startedAt`/`endedAt` and contract
 * step times and reasons (epoch ms, as the engine recorded them), in start order, to tell where the time went.
 * @param {Awaited<ReturnType<typeof createBenchRuntime>>} runtime
 */
export async function timeEngineRun(runtime, plan, data = {}) {
  const begin = performance.now();
  const cpuBefore = process.cpuUsage();
  const run = await runtime.engine.startRun(plan, data, { trigger: { kind: 'manual' } });
  const final = await runtime.engine.waitForRun(run.id);
  const wallMs = performance.now() - begin;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  if (final.state !== 'succeeded') {
    throw new Error(`bench run ${plan.name} ended ${final.state}: ${final.reason ?? 'no reason given'}`);
  }
  const tasks = (await runtime.store.taskRuns.listByRun(run.id))
    .map((t) => ({
      createdAt: t.createdAt,
      startedAt: t.startedAt,
      endedAt: t.endedAt,
      steps: t.steps,
      reason: t.reason,
    }))
    .sort((x, y) => x.startedAt - y.startedAt);
  return { wallMs, cpuMs, tasks, runStartedAt: final.startedAt, runEndedAt: final.endedAt };
}
