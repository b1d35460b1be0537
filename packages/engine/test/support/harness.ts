import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import type { Executor } from '../../src/executor/executor.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/main.js';
import { compileWorkflow, createFileResolver } from '../../src/plan-files/load.js';
import type { Plan } from '../../src/plan/types.js';
import type { JsonObject } from '../../src/domain/vocabulary.js';
import type { RunRecord, TaskRunRecord } from '../../src/store/types.js';

/** A runtime on a real SQLite file in a temp dir, plus helpers to run workflow text. */
export interface Harness {
  readonly runtime: Runtime;
  readonly dir: string;
  /** the executor under test's name */
  readonly executor: string;
  /** compile workflow YAML written to `dir` (component paths relative to it) */
  plan(yaml: string, name?: string): Promise<Plan>;
  /** start a run of workflow YAML */
  start(yaml: string, data?: JsonObject): Promise<RunRecord>;
  /** run workflow YAML to its end; returns the run and its task runs by action (last attempt) */
  run(
    yaml: string,
    data?: JsonObject,
  ): Promise<{ run: RunRecord; tasks: TaskRunRecord[]; byAction: Map<string, TaskRunRecord> }>;
  /** write a file into `dir` (for component.yaml files) */
  write(name: string, text: string): Promise<string>;
  /**
   * write `component` (component.yaml text) as `<name>.component.yaml` and run it to its end as
   * the one action `task` of a workflow `name`, given `data` as its `with:`
   */
  runComponent(name: string, component: string, data?: JsonObject): ReturnType<Harness['run']>;
  /** what the executor left behind for a run (process ids, container ids): must be empty */
  leftovers(runId: string): Promise<string[]>;
  close(): Promise<void>;
}

/** Options of a harness: which executor runs the actions, and how to find its leftovers. */
export interface HarnessOptions {
  readonly executor: 'local' | string;
  readonly extraExecutors?: readonly Executor[];
  readonly leftovers?: (runId: string) => Promise<string[]>;
  readonly runtime?: RuntimeOptions;
  readonly keepWorkspace?: boolean;
  /** configuration keys over the harness's own (for example the docker executor's endpoint) */
  readonly config?: NonNullable<Parameters<typeof loadConfig>[0]['flags']>;
}

/**
 * A harness on a fresh temp dir (SQLite file, data dir, workspaces kept unless told otherwise,
 * grace periods of 1 s and 2 s); `close()` closes the runtime, cancelling its runs, and removes
 * the dir.
 */
export async function createHarness(options: HarnessOptions): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-test-'));
  const config = loadConfig({
    env: {},
    home: dir,
    flags: {
      db: join(dir, 'pilotage.db'),
      dataDir: dir,
      executor: 'local',
      killGraceMs: 1000,
      stopGraceMs: 2000,
      keepWorkspace: options.keepWorkspace ?? true,
      ...options.config,
    },
  });
  const runtime = await createRuntime(config, {
    ...options.runtime,
    executors: options.extraExecutors ?? [],
  });
  let counter = 0;
  const harness: Harness = {
    runtime,
    dir,
    executor: options.executor,
    async plan(yaml, name) {
      const file = join(dir, name ?? `workflow-${++counter}.yaml`);
      const text =
        options.executor === 'local'
          ? yaml
          : yaml.replace(/^(\s*)executor: local$/m, `$1executor: ${options.executor}`);
      const withExecutor = [
        /^apiVersion:/m.test(text) ? '' : 'apiVersion: pilotage.dev/v1\nkind: Workflow\n',
        /^executor:/m.test(text) ? '' : `executor: ${options.executor}\n`,
        text,
      ].join('');
      await writeFile(file, withExecutor);
      return compileWorkflow(withExecutor, file, createFileResolver());
    },
    async start(yaml, data = {}) {
      const plan = await harness.plan(yaml);
      return runtime.engine.startRun(plan, data, { trigger: { kind: 'manual', by: 'test' } });
    },
    async run(yaml, data = {}) {
      const started = await harness.start(yaml, data);
      const run = await runtime.engine.waitForRun(started.id);
      const tasks = await runtime.store.taskRuns.listByRun(run.id);
      const byAction = new Map<string, TaskRunRecord>();
      for (const task of tasks) {
        const seen = byAction.get(task.action);
        if (!seen || seen.attempt < task.attempt) byAction.set(task.action, task);
      }
      return { run, tasks, byAction };
    },
    async write(name, text) {
      const file = join(dir, name);
      await writeFile(file, text);
      return file;
    },
    async runComponent(name, component, data) {
      const file = await harness.write(`${name}.component.yaml`, component);
      const withData = data === undefined ? '' : `        with: ${JSON.stringify(data)}\n`;
      return harness.run(
        `name: ${name}\nstages:\n  - name: only\n    actions:\n      - name: task\n        component: ${file}\n${withData}`,
      );
    },
    leftovers: options.leftovers ?? ((runId) => processesOfRun(runId)),
    async close() {
      await runtime.close({ cancel: true });
      await rm(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Live processes whose environment carries CO_RUN_ID=<runId> (read from /proc). */
export async function processesOfRun(runId: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const environ = await readFile(`/proc/${pid}/environ`, 'latin1');
      if (!environ.split('\0').includes(`CO_RUN_ID=${runId}`)) continue;
      const stat = await readFile(`/proc/${pid}/stat`, 'latin1');
      if (/^\d+ \(.*\) Z /.test(stat)) continue; // a zombie waiting for its parent is not running
      found.push(pid);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** Wait until `check` returns a value (not undefined), polling; throws after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
