import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from 'commander';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { isRunEnded, RUN_STATES, type RunState } from '../../domain/states.js';
import type { RunFilter, RunRecord, Store, TriggerInfo } from '../../store/types.js';
import { print } from '../output.js';
import { logPrefix, runHeader, runLine, statusLine, taskBlock } from '../render/run-lines.js';
import { localRunOptions } from '../local-run-options.js';
import type { RetryLocalFlags } from './retry-local.js';
import { serverChosen } from '../server-flags.js';
import { connectionOptions } from '../with-server.js';
import { onServerOrStore } from '../with-store.js';
import { endAbandonedCliRuns } from '../abandoned-runs.js';
import { localUser } from '../local-user.js';
import { configFrom } from '../runtime-flags.js';
import { cancelRemote, listRemote, logsRemote, retryRemote, showRemote } from './runs-remote.js';
import {
  selectsTask,
  statusCountFlag,
  type Flags,
  type ListFlags,
  type LogsFlags,
  type ShowFlags,
} from './runs-flags.js';

const TRIGGER_KINDS: readonly TriggerInfo['kind'][] = ['manual', 'cli', 'webhook', 'cdevent', 'cron', 'rerun', 'call'];

/**
 * `pilotage runs list|show|logs|cancel|retry`. With a server (`--server URL` or PILOTAGE_SERVER,
 * token `--token`/PILOTAGE_TOKEN) they use its API, `logs -f` following over SSE; otherwise
 * list/show/logs read the local store (`--db`/PILOTAGE_DB), cancel records the cancel there for
 * the process carrying the run, and retry carries the rerun in this process.
 */
export function registerRuns(program: Command): void {
  const runs = program.command('runs').description('inspect, cancel and rerun runs (local store, or a server)');
  const common = (command: Command, scope: 'read' | 'run', local = true): Command => {
    connectionOptions(
      command,
      scope,
      `the Pilotage server (PILOTAGE_SERVER)${local ? '; default the local store' : ''}`,
    );
    if (local) command.option('--db <path|url>', 'local store (PILOTAGE_DB)');
    return command.option('--json', 'JSON output');
  };

  common(
    runs
      .command('list')
      .description('recent runs, newest first')
      .option('--workflow <name>', 'only this workflow')
      .option('--state <state>', `only runs in this state (${RUN_STATES.join(', ')})`)
      .option('--trigger <kind>', `only runs started this way (${TRIGGER_KINDS.join(', ')})`)
      .option('--since <time>', 'only runs created at or after (ISO 8601 or epoch ms)')
      .option('--until <time>', 'only runs created before (ISO 8601 or epoch ms)')
      .option('--parent <run-id>', 'only the child runs this run called (uses:)')
      .option('--limit <n>', 'how many', '20')
      .option('--before <id>', 'local store: page of runs older than this id')
      .option('--cursor <cursor>', 'server: the next page (printed after each page)'),
    'read',
  ).action((flags: ListFlags) =>
    onServerOrStore(flags, {
      remote: (client) => listRemote(client, flags),
      local: async (store) => {
        await endAbandonedCliRuns(store, configFrom({ db: flags.db }));
        const list = await store.runs.list(localFilter(flags));
        if (flags.json) return print({ runs: list.map(({ plan: _plan, ...run }) => run) });
        if (list.length === 0) return print('no runs');
        for (const run of list) print(runLine(run));
      },
    }),
  );

  common(
    runs
      .command('show')
      .description('a run with every task run, attempt, output and transition')
      .argument('<run-id>')
      .option('--full', 'print long inputs, outputs and messages whole (they are cut at 1000 characters)')
      .option('--statuses <n>', "print each attempt's latest N TASK_STATUS reports under it (read by pages)"),
    'read',
  ).action((id: string, flags: ShowFlags) =>
    onServerOrStore(flags, {
      remote: (client) => showRemote(client, id, { ...flags, statuses: statusCountFlag(flags.statuses) }),
      local: async (store) => {
        const statuses = statusCountFlag(flags.statuses);
        await endAbandonedCliRuns(store, configFrom({ db: flags.db }));
        const run = await mustGetRun(store, id);
        const tasks = await store.taskRuns.listByRun(run.id);
        if (flags.json) {
          const transitions = await store.transitions.list(run.id);
          return print({ run, tasks, transitions });
        }
        for (const line of runHeader(run, flags.full)) print(line);
        for (const task of tasks) {
          print(taskBlock(task, flags.full));
          if (statuses === 0) continue;
          for (const status of await store.statuses.read(task.id, { before: Infinity, limit: statuses })) {
            print(statusLine(status, flags.full));
          }
        }
      },
    }),
  );

  common(
    runs
      .command('logs')
      .description('log lines of a run (all actions, or one), optionally following')
      .argument('<run-id>')
      .option('--task <action|task-run-id>', 'only this action (every attempt) or this task run')
      .option('--action <name>', 'same as --task')
      .option('-f, --follow', 'keep printing until the run ends (over SSE with a server)'),
    'read',
  ).action((id: string, flags: LogsFlags) =>
    onServerOrStore(flags, {
      remote: (client) => logsRemote(client, id, flags),
      local: (store) => logsLocal(store, id, flags),
    }),
  );

  common(
    runs.command('cancel').description('cancel a run (local store, or a server)').argument('<run-id>'),
    'run',
  ).action((id: string, flags: Flags) =>
    onServerOrStore(flags, {
      remote: (client) => cancelRemote(client, id, flags),
      local: (store) => cancelLocal(store, id, flags),
    }),
  );

  common(
    localRunOptions(
      runs
        .command('retry')
        .description(
          'rerun an ended run: from the failed action, reusing what succeeded, or from the start (on a server, or here on the local store)',
        )
        .argument('<run-id>')
        .option('--from <where>', 'failed (reuse what succeeded) or start', 'failed')
        .option(
          '--empty-workspace',
          "start with an empty workspace, not a copy of the failed run's kept one (needed once it expired)",
        )
        .option('-f, --follow', 'server: follow the new run with the live view; exit code = its result')
        .option('--plain', 'one line per event even on a terminal'),
      'local store: ',
    ),
    'run',
  ).action((id: string, flags: RetryFlags) => retry(id, flags));
}

type RetryFlags = Flags & Omit<RetryLocalFlags, 'events'> & { follow?: boolean };

/**
 * `runs retry`: through the server when one is given (the same rule as the other commands);
 * else carried here on the local store, like `pilotage run`, followed to its end
 * (`retry-local.ts`, loaded only then: it needs the runner).
 */
async function retry(id: string, flags: RetryFlags): Promise<void> {
  const remote = serverChosen(flags);
  if (remote === undefined) return;
  if (remote) return onServerOrStore(flags, { remote: (client) => retryRemote(client, id, flags) });
  const { retryLocal } = await import('./retry-local.js');
  process.exitCode = await retryLocal(id, { ...flags, events: [] });
}

/** How long `runs cancel` on a local store waits to see the run end: the carrying process's heartbeat is 5 s. */
const LOCAL_CANCEL_WAIT_MS = 10_000;

/**
 * `runs cancel` on a local store: the cancel is recorded in the store (as a server records one
 * for a run another replica carries), and the process that carries the run (`pilotage run`,
 * `serve`) stops its components and ends it `cancelled`: at once on PostgreSQL (a notification),
 * at its next heartbeat on SQLite; this command waits up to 10 s to show that. A run whose
 * `pilotage run` process died is ended first (as errored).
 */
async function cancelLocal(store: Store, id: string, flags: Flags): Promise<void> {
  await endAbandonedCliRuns(store, configFrom({ db: flags.db }));
  const run = await store.runs.get(id);
  if (run === undefined) throw new NotFoundError(`run ${id} not found`);
  const alreadyEnded = (state: RunState) => new ConflictError(`run ${id} has already ended (${state})`);
  if (isRunEnded(run.state)) throw alreadyEnded(run.state);
  if (!(await store.leases.requestCancel(id, `cancelled by ${localUser()}`))) {
    throw alreadyEnded((await store.runs.get(id))?.state ?? run.state);
  }
  // as the engine and `pilotage approve --db` do: on PostgreSQL the holder hears of it at once
  store.changes.publish({ kind: 'intent', runId: id });
  const deadline = Date.now() + LOCAL_CANCEL_WAIT_MS;
  let now = run;
  while (!isRunEnded(now.state) && Date.now() < deadline) {
    await delay(200);
    now = (await store.runs.get(id)) ?? now;
  }
  if (flags.json) {
    const { plan: _plan, ...shown } = now;
    return print(shown);
  }
  const name = `${now.workflow} #${now.number} (run ${now.id})`;
  print(
    isRunEnded(now.state)
      ? `${name} ${now.state}${now.reason === null ? '' : `: ${now.reason}`}`
      : `cancel of ${name} recorded; the process carrying it (pilotage run, serve) has not acted on it yet: it does at its next heartbeat`,
  );
}

function localFilter(flags: ListFlags): RunFilter {
  const limit = Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new ValidationError(`--limit must be a positive number, got "${flags.limit}"`);
  if (flags.state !== undefined && !RUN_STATES.includes(flags.state as RunState)) {
    throw new ValidationError(`--state must be one of ${RUN_STATES.join(', ')}, got "${flags.state}"`);
  }
  if (flags.trigger !== undefined && !TRIGGER_KINDS.includes(flags.trigger as TriggerInfo['kind'])) {
    throw new ValidationError(`--trigger must be one of ${TRIGGER_KINDS.join(', ')}, got "${flags.trigger}"`);
  }
  if (flags.cursor !== undefined)
    throw new ValidationError('--cursor pages a server; use --before <id> on the local store');
  return {
    ...(flags.workflow ? { workflow: flags.workflow } : {}),
    ...(flags.state ? { state: flags.state as RunState } : {}),
    ...(flags.trigger ? { triggerKind: flags.trigger as TriggerInfo['kind'] } : {}),
    ...(flags.since ? { createdAfter: parseTime(flags.since, '--since') } : {}),
    ...(flags.until ? { createdBefore: parseTime(flags.until, '--until') } : {}),
    ...(flags.before ? { before: flags.before } : {}),
    ...(flags.parent ? { parentRunId: flags.parent } : {}),
    limit,
  };
}

function parseTime(text: string, flag: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new ValidationError(`${flag} must be an ISO 8601 time or epoch ms, got "${text}"`);
  return ms;
}

async function logsLocal(store: Store, id: string, flags: LogsFlags): Promise<void> {
  const seen = new Map<string, number>();
  for (;;) {
    const run = await mustGetRun(store, id);
    const tasks = (await store.taskRuns.listByRun(run.id)).filter((t) => selectsTask(flags, t));
    for (const task of tasks) {
      for (;;) {
        const lines = await store.logs.read(task.id, seen.get(task.id) ?? 0, 1000);
        for (const line of lines) {
          print(
            flags.json ? { action: task.action, attempt: task.attempt, ...line } : `${logPrefix(task)}${line.line}`,
          );
        }
        if (lines.length === 0) break;
        seen.set(task.id, lines.at(-1)!.seq);
      }
    }
    if (!flags.follow || isRunEnded(run.state)) break;
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function mustGetRun(store: Store, id: string): Promise<RunRecord> {
  const run = await store.runs.get(id);
  if (!run) throw new NotFoundError(`run ${id} not found in this store (see pilotage runs list)`);
  return run;
}
