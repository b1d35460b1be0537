import type { Command } from 'commander';
import { formatDurationMs } from '../../domain/duration.js';
import { ValidationError } from '../../domain/errors.js';
import type { JsonObject } from '../../domain/vocabulary.js';
import type { EngineUpdate } from '../../engine/ports.js';
import { loadWorkflowFile } from '../../plan/load.js';
import type { Plan } from '../../plan/types.js';
import { createRuntime, type Runtime } from '../../main.js';
import type { RunRecord } from '../../store/types.js';
import { apiClient } from '../api-client.js';
import { EXIT, reportError } from '../output.js';
import { followRemoteRun } from '../remote-run.js';
import { parseRunData } from '../parse-inputs.js';
import { RunOutput } from '../render/run-output.js';
import { RunView } from '../render/run-view.js';
import { configFrom } from '../runtime-flags.js';

interface RunFlags {
  input: string[];
  data?: string;
  db?: string;
  executor?: string;
  json?: boolean;
  plain?: boolean;
  keepWorkspace?: boolean;
  secret: string[];
  events: string[];
  server?: string;
  token?: string;
  workflowVersion?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * `pilotage run WORKFLOW.yaml`: run a workflow here, show it live, exit 0 only on success.
 * With a server (`--server URL` or PILOTAGE_SERVER), `WORKFLOW` names a workflow stored there:
 * the server runs it and this command follows it with the same live view.
 */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'run a workflow locally (embedded store, live progress; exit code = result), or on a server with --server',
    )
    .argument('<workflow>', 'workflow file (YAML or JSON); with --server, the name of a workflow stored there')
    .option('-i, --input <name=value>', 'an input value (repeatable)', collect, [])
    .option('-d, --data <json|@file>', 'the whole event data as JSON, or @file')
    .option('--db <path|url>', 'store: SQLite file, :memory: or postgres:// URL')
    .option('--executor <name>', 'default executor: local, docker or auto')
    .option('--secret <NAME=value>', 'a secret for this run, masked everywhere (repeatable)', collect, [])
    .option('--events <stdout|file.jsonl|url>', "deliver the run's CDEvents there too (repeatable)", collect, [])
    .option('--keep-workspace', 'keep the run workspace folder after the run')
    .option('--plain', 'one line per event even on a terminal')
    .option('--json', 'machine output: one JSON object per line')
    .option('--server <url>', 'run on this Pilotage server instead (PILOTAGE_SERVER)')
    .option('--token <token>', 'API token for the server, scope run (PILOTAGE_TOKEN)')
    .option('--workflow-version <n>', 'with --server: a stored version (default the latest)')
    .action(async (workflow: string, flags: RunFlags) => {
      let remote: boolean;
      try {
        // a server given by --server or PILOTAGE_SERVER
        remote = configFrom({ server: flags.server }).server !== undefined;
      } catch (error) {
        process.exitCode = reportError(error, flags.json === true);
        return;
      }
      process.exitCode = remote ? await runRemote(workflow, flags) : await runCommand(workflow, flags);
    });
}

/** Start a run of a stored workflow on the server and follow it; returns the exit code. */
async function runRemote(name: string, flags: RunFlags): Promise<number> {
  try {
    const localOnly = [
      ['--db', flags.db !== undefined],
      ['--executor', flags.executor !== undefined],
      ['--secret', flags.secret.length > 0],
      ['--events', flags.events.length > 0],
      ['--keep-workspace', flags.keepWorkspace === true],
    ]
      .filter(([, given]) => given)
      .map(([flag]) => flag);
    if (localOnly.length > 0) {
      throw new ValidationError(
        `${localOnly.join(', ')}: only for local runs; with --server the server's settings apply`,
      );
    }
    const version = flags.workflowVersion === undefined ? undefined : Number(flags.workflowVersion);
    if (version !== undefined && !(Number.isInteger(version) && version >= 1)) {
      throw new ValidationError(
        `--workflow-version must be a version number such as 3, got "${flags.workflowVersion}"`,
      );
    }
    const client = apiClient(flags);
    const data = parseRunData(flags.data ? { data: flags.data } : {}, undefined);
    const inputs: Record<string, string> = {};
    for (const pair of flags.input) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new ValidationError(`--input "${pair}" must look like name=value`);
      inputs[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    // the server types --input values by the workflow's inputs schema, as a local run does
    const run = await client.request<{ id: string; workflow: string; number: number }>(
      'POST',
      `/v1/workflows/${encodeURIComponent(name)}/runs`,
      { data, inputs, ...(version === undefined ? {} : { version }) },
    );
    if (!flags.json)
      process.stderr.write(`started ${run.workflow} #${run.number} (run ${run.id}) on ${client.server}\n`);
    return await followRemoteRun(client, run.id, flags);
  } catch (error) {
    return reportError(error, flags.json === true);
  }
}

async function runCommand(file: string, flags: RunFlags): Promise<number> {
  let runtime: Runtime | undefined;
  try {
    const plan = loadWorkflowFile(file);
    const data = parseRunData({ ...(flags.data ? { data: flags.data } : {}), inputs: flags.input }, plan.inputs);
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
    runtime = await createRuntime(
      configFrom({
        db: flags.db,
        executor: flags.executor,
        keepWorkspace: flags.keepWorkspace,
        eventSinks: flags.events,
      }),
      { secrets, warn: (message) => process.stderr.write(`warning: ${message}\n`) },
    );
    const result = await follow(runtime, plan, data, flags);
    return result;
  } catch (error) {
    return reportError(error, flags.json === true);
  } finally {
    await runtime?.close({ cancel: true });
  }
}

async function follow(runtime: Runtime, plan: Plan, data: JsonObject, flags: RunFlags): Promise<number> {
  const { engine } = runtime;
  const output = new RunOutput(new RunView(plan), flags);
  const unsubscribe = engine.subscribe((update: EngineUpdate) => output.apply(update));
  output.start();
  let interrupted = false;
  let run: RunRecord | undefined;
  const onSigint = () => {
    if (interrupted || !run) process.exit(EXIT.interrupted);
    interrupted = true;
    process.stderr.write('\ncancelling (Ctrl-C again to quit at once)…\n');
    void engine.cancelRun(run.id, 'cancelled: interrupted (SIGINT)');
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    run = await engine.startRun(plan, data, { trigger: { kind: 'cli', by: process.env.USER ?? 'cli' } });
    const final = await engine.waitForRun(run.id);
    output.stop();
    await summarize(runtime, final, flags);
    const undelivered = await runtime.drainEvents(10_000);
    if (undelivered > 0)
      process.stderr.write(`warning: ${undelivered} CDEvent deliveries still pending (see pilotage events list)\n`);
    if (final.state === 'succeeded') return EXIT.ok;
    return interrupted ? EXIT.interrupted : EXIT.failed;
  } finally {
    output.dispose();
    unsubscribe();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

/** After the run: a result line, and for each failed action its reason and last log lines. */
async function summarize(runtime: Runtime, run: RunRecord, flags: RunFlags): Promise<void> {
  const tasks = await runtime.store.taskRuns.listByRun(run.id);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ kind: 'result', run, tasks })}\n`);
    return;
  }
  const elapsed = run.startedAt && run.endedAt ? formatDurationMs(run.endedAt - run.startedAt) : '';
  const out = run.state === 'succeeded' ? process.stdout : process.stderr;
  for (const task of tasks.filter((t) => t.state === 'failed' || t.state === 'errored')) {
    out.write(
      `\n✘ ${task.stage}/${task.action} (attempt ${task.attempt}) ${task.state}: ${task.reason ?? task.message ?? ''}\n`,
    );
    const tail = await runtime.store.logs.tail(task.id, 20);
    for (const line of tail) out.write(`  │ ${line.stream === 'stderr' ? '!' : ' '} ${line.line}\n`);
  }
  out.write(
    `\nrun ${run.workflow} #${run.number} ${run.state}${run.reason ? ` (${run.reason})` : ''} in ${elapsed} — id ${run.id}\n` +
      (runtime.config.db === ':memory:'
        ? 'in-memory store: nothing was kept\n'
        : `details: pilotage runs show ${run.id}\n`),
  );
}
