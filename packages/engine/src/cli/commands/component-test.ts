import { mkdtemp, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { formatDurationMs, parseDurationMs } from '../../domain/duration.js';
import { NO_RETRY } from '../../domain/retry.js';
import type { JsonObject } from '../../domain/vocabulary.js';
import type { EngineUpdate } from '../../engine/ports.js';
import { createRuntime, type Runtime } from '../../main.js';
import { loadComponentFile } from '../../plan-files/load.js';
import { PLAN_DEFAULTS, type Plan, type ResolvedComponent } from '../../plan/types.js';
import { CONTRACT_STEPS, STEP_ENV } from '../../protocol/types.js';
import type { TaskRunRecord } from '../../store/types.js';
import { EXIT, jsonLine, reportError } from '../output.js';
import { parseRunData } from '../parse-inputs.js';
import { configFrom } from '../runtime-flags.js';
import { newId } from '../../domain/ids.js';
import { ValidationError } from '../../domain/errors.js';

interface Flags {
  data?: string;
  input: string[];
  executor?: string;
  timeout?: string;
  workspace?: string;
  json?: boolean;
}

/** One refused callback, as the report lists it. */
interface Refusal {
  readonly step: string;
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/** `pilotage component test component.yaml --data JSON`: run one component alone, report the contract. */
export function registerComponentTest(component: Command): void {
  component
    .command('test')
    .description('run one component alone and report every contract violation')
    .argument('<component>', 'component.yaml')
    .option('-d, --data <json|@file>', 'the event data', '{}')
    .option(
      '-i, --input <name=value>',
      'one field of the event data (repeatable)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option('--executor <name>', 'local (default), docker or kubernetes')
    .option('--timeout <duration>', 'override the component timeout', undefined)
    .option('--workspace <dir>', "run in this folder as the run's workspace (CO_WORKSPACE); it is kept as it is left")
    .option('--json', 'the report as JSON')
    .action(async (file: string, flags: Flags) => {
      process.exitCode = await testComponent(file, flags);
    });
}

async function testComponent(file: string, flags: Flags): Promise<number> {
  let runtime: Runtime | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  try {
    const component = loadComponentFile(file);
    const data = parseRunData({ ...(flags.data ? { data: flags.data } : {}), inputs: flags.input }, component.inputs);
    const runId = newId();
    const workspace = flags.workspace === undefined ? undefined : await workspaceLink(flags.workspace, runId);
    cleanup = workspace?.cleanup;
    runtime = await createRuntime(
      configFrom({ db: ':memory:', executor: flags.executor, workspaceRoot: workspace?.root }),
    );
    const plan = singleActionPlan(component, data, flags.timeout ? parseDurationMs(flags.timeout) : undefined);
    const refusals: Refusal[] = [];
    const statuses: string[] = [];
    runtime.engine.subscribe((update: EngineUpdate) => {
      if (update.kind === 'refused') refusals.push(update);
      if (update.kind === 'status' && update.status.message) statuses.push(update.status.message);
    });
    const started = await runtime.engine.startRun(
      plan,
      {},
      { id: runId, trigger: { kind: 'cli', by: 'component test' } },
    );
    const run = await runtime.engine.waitForRun(started.id);
    const [task] = await runtime.store.taskRuns.listByRun(run.id);
    if (!task) throw new Error('the component did not run');
    const logs = await runtime.store.logs.tail(task.id, 15);
    const report = buildReport(component, task, refusals, statuses.length);
    if (flags.json) {
      process.stdout.write(`${jsonLine({ ...report, logs: logs.map((l) => l.line) })}\n`);
    } else {
      printReport(
        component,
        task,
        report,
        logs.map((l) => `${l.stream === 'stderr' ? '!' : ' '} ${l.line}`),
      );
    }
    return report.ok ? EXIT.ok : EXIT.failed;
  } catch (error) {
    return reportError(error, flags.json === true);
  } finally {
    await runtime?.close({ cancel: true });
    await cleanup?.();
  }
}

/**
 * A workspace root whose folder for `runId` is a link to `dir`: the executors prepare and release
 * run workspaces under a root, and releasing removes the link, never the folder it points to.
 */
async function workspaceLink(dir: string, runId: string): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const target = resolve(dir);
  const info = await stat(target).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) {
    throw new ValidationError(`--workspace ${dir}: not a folder; create it first`);
  }
  const root = await mkdtemp(join(tmpdir(), 'pilotage-component-test-'));
  await symlink(target, join(root, runId), 'dir');
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

function singleActionPlan(component: ResolvedComponent, data: JsonObject, timeoutMs: number | undefined): Plan {
  return {
    name: `component-test-${component.name}`,
    env: {},
    triggers: [],
    failFast: false,
    concurrency: 1,
    stages: [
      {
        name: 'test',
        type: 'actions',
        actions: [
          {
            name: component.name,
            stage: 'test',
            component,
            with: { kind: 'literal', value: data },
            timeoutMs: timeoutMs ?? component.timeoutMs ?? PLAN_DEFAULTS.actionTimeoutMs,
            retries: NO_RETRY,
            env: {},
            needs: [],
          },
        ],
      },
    ],
  };
}

interface Report {
  readonly ok: boolean;
  readonly state: string;
  readonly reason: string | null;
  readonly steps: { step: string; env: string; seen: boolean; atMs: number | null }[];
  readonly statusCalls: number;
  readonly refused: Refusal[];
  readonly missing: string[];
  readonly output: JsonObject;
  readonly exitCode: number | null;
  readonly durationMs: number | null;
}

function buildReport(
  component: ResolvedComponent,
  task: TaskRunRecord,
  refused: Refusal[],
  statusCalls: number,
): Report {
  const t0 = task.startedAt ?? task.createdAt;
  const steps = CONTRACT_STEPS.map((step) => {
    const at = task.steps[step];
    return { step, env: STEP_ENV[step], seen: at !== undefined, atMs: at === undefined ? null : at - t0 };
  });
  const missing = steps.filter((s) => !s.seen && s.step !== 'task-status').map((s) => s.env);
  const ok = task.state === 'succeeded' && refused.length === 0 && (!component.strict || missing.length === 0);
  return {
    ok,
    state: task.state,
    reason: task.reason,
    steps,
    statusCalls,
    refused,
    missing,
    output: task.output,
    exitCode: task.exitCode,
    durationMs: task.startedAt && task.endedAt ? task.endedAt - task.startedAt : null,
  };
}

function printReport(component: ResolvedComponent, task: TaskRunRecord, report: Report, logs: string[]): void {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(`contract report: ${component.name}@${component.version}${component.strict ? ' (strict)' : ''}`);
  for (const s of report.steps) {
    const mark = s.seen ? '✔' : s.step === 'task-status' ? '·' : component.strict ? '✘' : '·';
    const detail = s.seen
      ? `+${formatDurationMs(s.atMs ?? 0)}${s.step === 'task-status' ? `  (${report.statusCalls} call${report.statusCalls === 1 ? '' : 's'})` : ''}${s.step === 'task-result' && task.result ? `  ${task.result}` : ''}`
      : s.step === 'task-status'
        ? 'not called (optional)'
        : 'missing';
    out(`  ${mark} ${s.env.padEnd(20)} ${detail}`);
  }
  if (report.refused.length > 0) {
    out('  refused calls:');
    for (const r of report.refused) out(`    ✘ ${r.step}: ${r.status} ${r.code}: ${r.message}`);
  }
  out(`  output:    ${JSON.stringify(report.output)}`);
  out(`  exit code: ${report.exitCode ?? '-'}`);
  out(`  duration:  ${report.durationMs === null ? '-' : formatDurationMs(report.durationMs)}`);
  if (logs.length > 0) {
    out('  last log lines:');
    for (const line of logs) out(`    │${line}`);
  }
  out(`  result:    ${report.state}${report.reason ? ` (${report.reason})` : ''}`);
  out(report.ok ? 'contract: OK' : 'contract: VIOLATED or the component failed');
}
