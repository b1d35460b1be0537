import type { Command } from 'commander';
import { messageOf, ValidationError } from '../../domain/errors.js';
import type { JsonObject } from '../../domain/vocabulary.js';
import type { EngineUpdate } from '../../engine/ports.js';
import { loadWorkflowFile } from '../../plan-files/load.js';
import { planOutline } from '../../plan/outline.js';
import type { Plan } from '../../plan/types.js';
import { createRuntime, type Runtime } from '../../main.js';
import type { StartRunOptions } from '../../engine/engine.js';
import type { RunRecord } from '../../store/types.js';
import { cancelOnInterrupt } from '../interrupt.js';
import { localUser } from '../local-user.js';
import { endAbandonedCliRuns } from '../abandoned-runs.js';
import { EXIT, jsonLine, reportError } from '../output.js';
import { parseRunData } from '../parse-inputs.js';
import { RunOutput } from '../render/run-output.js';
import { writeRunSummary } from '../render/run-summary.js';
import { isWaitingGate, RunView, type ViewTask } from '../render/run-view.js';
import { decideCommands, decideHint } from '../approval-hint.js';
import { ApprovalPromptQueue } from '../approval-prompt-queue.js';
import { look } from '../terminal.js';
import { callerTraceContext, configFrom } from '../runtime-flags.js';
import { localRunOptions } from '../local-run-options.js';
import { repeated } from '../repeated-option.js';
import { connectionOptions, serverChosen } from '../server-flags.js';
import type { Sink } from '../../events/sinks/sink.js';
import { expireWorkspaces } from '../../service/cleanup-job.js';
import { newId } from '../../domain/ids.js';
import { cancelIfRunning } from '../../engine/child-runs.js';

interface RunFlags {
  input: string[];
  data?: string;
  db?: string;
  executor?: string;
  json?: boolean;
  plain?: boolean;
  logs?: boolean;
  keepWorkspace?: boolean;
  secret: string[];
  events: string[];
  passEnv: string[];
  server?: string;
  token?: string;
  workflowVersion?: string;
}

/**
 * `pilotage run WORKFLOW.yaml`: run a workflow here, show it live, exit 0 only on success.
 * With a server (`--server URL` or PILOTAGE_SERVER), `WORKFLOW` names a workflow stored there:
 * the server runs it and this command follows it with the same live view.
 */
export function registerRun(program: Command): void {
  const command = program
    .command('run')
    .description(
      'run a workflow locally (embedded store, live progress; exit code = result), or on a server with --server',
    )
    .argument('<workflow>', 'workflow file (YAML or JSON); with --server, the name of a workflow stored there')
    .option('-i, --input <name=value>', 'an input value (repeatable)', repeated, [])
    .option('-d, --data <json|@file>', 'the whole event data as JSON, or @file')
    .option('--db <path|url>', 'store: SQLite file, :memory: or postgres:// URL');
  localRunOptions(command)
    .option('--events <stdout|file.jsonl|url>', "deliver the run's CDEvents there too (repeatable)", repeated, [])
    .option('--plain', 'one line per event even on a terminal')
    .option('--json', 'machine output: one JSON object per line')
    .option('--no-logs', "with --json: leave the components' log lines out");
  connectionOptions(command, 'run', 'run on this Pilotage server instead (PILOTAGE_SERVER)')
    .option('--workflow-version <n>', 'with --server: a stored version (default the latest)')
    .action(async (workflow: string, flags: RunFlags) => {
      const remote = serverChosen(flags);
      if (remote === undefined) return;
      process.exitCode = remote
        ? await (await import('./run-on-server.js')).runOnServer(workflow, flags)
        : await runCommand(workflow, flags);
    });
}

/** How many actions `plan` has (a matrix counts once). */
function actionCount(plan: Plan): number {
  return plan.stages.reduce((sum, stage) => sum + stage.actions.length, 0);
}

async function runCommand(file: string, flags: RunFlags): Promise<number> {
  let start: LocalStart;
  try {
    const plan = loadWorkflowFile(file);
    const data = parseRunData({ ...(flags.data ? { data: flags.data } : {}), inputs: flags.input }, plan.inputs);
    start = { plan, data, options: { trigger: { kind: 'cli', by: localUser() } } };
  } catch (error) {
    return reportError(error, flags.json === true);
  }
  // several actions on local processes: the spawner starts now, ready by the first of them
  return runHere(flags, () => Promise.resolve(start), actionCount(start.plan) > 1);
}

/** What a command runs here: the plan, its data, and how the run is recorded (trigger, reuse…). */
export interface LocalStart {
  readonly plan: Plan;
  readonly data: JsonObject;
  readonly options: Omit<StartRunOptions, 'id' | 'traceParent'>;
}

/** The flags of a run carried by this process (`pilotage run FILE`, `runs retry` on a local store). */
export type LocalRunFlags = Pick<
  RunFlags,
  'db' | 'executor' | 'json' | 'plain' | 'logs' | 'keepWorkspace' | 'secret' | 'events' | 'passEnv'
>;

/**
 * Carry a run in this process on the local store, with the live view, and return the exit code:
 * open the runtime (with `--secret`, `--events`, `--pass-env`…), end what dead `pilotage run`
 * processes left on the store, then start what `prepare` gives (it may read the store) and
 * follow it to its end. `spawnerEarly`: start the local spawner now (several actions).
 */
export async function runHere(
  flags: LocalRunFlags,
  prepare: (runtime: Runtime) => Promise<LocalStart>,
  spawnerEarly = false,
): Promise<number> {
  let runtime: Runtime | undefined;
  // chosen now, so that the --events sinks know the run's events from its very first one
  const runId = newId();
  try {
    const secrets = Object.fromEntries(
      flags.secret.map((pair) => {
        const eq = pair.indexOf('=');
        if (eq <= 0)
          throw new ValidationError(
            `--secret must look like NAME=value (argument ${flags.secret.indexOf(pair) + 1}; its text is not shown, it may be a secret)`,
          );
        return [pair.slice(0, eq), pair.slice(eq + 1)];
      }),
    );
    const config = configFrom({
      db: flags.db,
      executor: flags.executor,
      keepWorkspace: flags.keepWorkspace,
      passEnv: flags.passEnv,
    });
    runtime = await createRuntime(
      // an in-memory store ends with this command: no rerun could ever copy a kept workspace
      config.db === ':memory:' ? { ...config, workspaceRetentionMs: 0 } : config,
      {
        secrets,
        warn: (message) => process.stderr.write(`warning: ${message}\n`),
        sinks: await runOnlySinks(flags.events, runId),
        ...(config.executor === 'local' && spawnerEarly ? { localSpawnerAfter: 0 } : {}),
      },
    );
    const { engine } = runtime;
    await endAbandonedCliRuns(runtime.store, runtime.config, {
      events: runtime.events,
      reclaim: () => engine.reclaimLeftovers(),
    });
    const start = await prepare(runtime);
    const result = await follow(runtime, start, flags, runId);
    await expireOldWorkspaces(runtime);
    return result;
  } catch (error) {
    return reportError(error, flags.json === true);
  } finally {
    await runtime?.close({ cancel: true });
  }
}

/**
 * Remove the kept workspaces of this store's runs that expired, as a server's cleanup job does
 * (a store only `pilotage run` uses has none). Best effort: a failure is a warning.
 */
async function expireOldWorkspaces(runtime: Runtime): Promise<void> {
  if (runtime.config.db === ':memory:') return;
  const { engine, store } = runtime;
  const warn = (message: string): void => void process.stderr.write(`warning: ${message}\n`);
  await expireWorkspaces({
    store,
    releaseWorkspace: (runId) => engine.releaseKeptWorkspace(runId),
    now: Date.now(),
    limit: 100,
    log: { warn },
  }).catch((error: unknown) => warn(`could not remove expired workspaces: ${messageOf(error)}`));
}

/**
 * The `--events` sinks, carrying only the events of the run this command starts (`runId`): the
 * store may hold other runs' history, which the delivery worker would
 * otherwise send to a sink it has never seen.
 */
async function runOnlySinks(targets: readonly string[], runId: string): Promise<Sink[]> {
  if (targets.length === 0) return [];
  const { sinkFromTarget } = await import('../../events/sinks/sink-from-target.js');
  return targets.map((target) => {
    const sink = sinkFromTarget(target);
    return {
      name: sink.name,
      accepts: (type) => sink.accepts(type),
      // another run's event counts as delivered here: it was never this command's to send
      send: (event) => (event.runId === runId ? sink.send(event) : Promise.resolve()),
    };
  });
}

async function follow(runtime: Runtime, start: LocalStart, flags: LocalRunFlags, runId: string): Promise<number> {
  const { engine } = runtime;
  const { plan, data } = start;
  const where = { db: runtime.config.db };
  const hint = (task: ViewTask): string => decideHint(task.runId, task.stage, where);
  const output = await RunOutput.open(new RunView({ name: plan.name, stages: planOutline(plan) }, look(), hint), flags);
  // on a terminal, a waiting approval stage is asked about; elsewhere the hint says what to run
  const prompts =
    process.stdin.isTTY === true && process.stdout.isTTY === true && flags.json !== true
      ? new ApprovalPromptQueue({ engine, output, by: localUser(), input: process.stdin, terminal: process.stdout })
      : undefined;
  const hinted = new Set<string>();
  const unsubscribe = engine.subscribe((update: EngineUpdate) => {
    output.apply(update);
    prompts?.apply(update);
    if (flags.json === true && update.kind === 'task' && isWaitingGate(update.task) && !hinted.has(update.task.id)) {
      hinted.add(update.task.id);
      const { runId, stage } = update.task;
      process.stdout.write(`${jsonLine({ kind: 'approval', runId, stage, ...decideCommands(runId, stage, where) })}\n`);
    }
  });
  output.start();
  let run: RunRecord | undefined;
  const interrupt = cancelOnInterrupt(
    () =>
      void cancelIfRunning(engine, run!.id, 'cancelled: interrupted (SIGINT)').catch((error: unknown) =>
        process.stderr.write(`warning: could not cancel the run: ${messageOf(error)}\n`),
      ),
    () => run !== undefined,
  );
  try {
    const traceParent = callerTraceContext();
    run = await engine.startRun(plan, data, {
      ...start.options,
      id: runId,
      ...(traceParent === undefined ? {} : { traceParent }),
    });
    const final = await engine.waitForRun(run.id);
    prompts?.close();
    output.stop();
    await writeRunSummary({
      run: final,
      tasks: await runtime.store.taskRuns.listByRun(final.id),
      json: flags.json,
      tail: (task) => runtime.store.logs.tail(task.id, 20),
      footer:
        runtime.config.db === ':memory:'
          ? 'in-memory store: nothing was kept'
          : `details: pilotage runs show ${final.id}${keptNote(final)}`,
    });
    const undelivered = await runtime.drainEvents(10_000);
    if (undelivered > 0)
      process.stderr.write(`warning: ${undelivered} CDEvent deliveries still pending (see pilotage events list)\n`);
    if (final.state === 'succeeded') return EXIT.ok;
    return interrupt.interrupted() ? EXIT.interrupted : EXIT.failed;
  } finally {
    prompts?.close();
    output.dispose();
    unsubscribe();
    interrupt.dispose();
  }
}

/** Where a failed run's kept workspace is said, after the summary's details line. */
function keptNote(run: RunRecord): string {
  const { state, expiresAt } = run.workspace;
  if (state !== 'kept') return '';
  return `\nworkspace kept ${expiresAt === null ? 'until removed by hand' : `until ${new Date(expiresAt).toISOString()}`} for a rerun (pilotage runs retry ${run.id})`;
}
