import { routes, type LogLineInfo, type RunStreamEvent, type StatusInfo } from '@pilotage/api';
import { ValidationError } from '../../domain/errors.js';
import type { ApiClient } from '../api-client.js';
import { print } from '../output.js';
import { followRemoteRun } from '../remote-run.js';
import { logPrefix, runHeader, runLine, statusLine, taskBlock } from '../render/run-lines.js';
import type { ViewTask } from '../render/run-view.js';
import { followEvents } from '../sse-events.js';
import { selectsTask, type ListFlags, type LogsFlags } from './runs-flags.js';

/** Log lines per request. */
const PAGE = 1000;
/** TASK_STATUS reports per page (the API's most). */
const STATUS_PAGE = 1000;

type LogLine = LogLineInfo;

/** `runs list --server`: one page of `GET /v1/runs`, and how to get the next. */
export async function listRemote(client: ApiClient, flags: ListFlags): Promise<void> {
  if (flags.before !== undefined)
    throw new ValidationError('--before pages the local store; use --cursor with a server');
  // the server checks each value (state, trigger, limit) and names the field it refuses
  const query = {
    workflow: flags.workflow,
    state: flags.state,
    trigger: flags.trigger,
    createdAfter: flags.since,
    createdBefore: flags.until,
    limit: flags.limit,
    cursor: flags.cursor,
    parent: flags.parent,
  } as Record<string, string | undefined>;
  const page = await client.call(routes.listRuns, { query });
  if (flags.json) return print(page);
  if (page.runs.length === 0) return print('no runs');
  for (const run of page.runs) print(runLine(run));
  if (page.nextCursor !== null) process.stderr.write(`more: --cursor ${page.nextCursor}\n`);
}

/** `runs show --server`. */
export async function showRemote(
  client: ApiClient,
  id: string,
  flags: { json?: boolean; full?: boolean; statuses: number },
): Promise<void> {
  const detail = await client.call(routes.getRun, { params: { id } });
  if (flags.json) return print(detail);
  for (const line of runHeader(detail.run, flags.full)) print(line);
  for (const action of detail.actions) {
    for (const task of action.attempts) {
      print(taskBlock(task, flags.full));
      for (const status of await latestStatuses(client, id, task, flags.statuses))
        print(statusLine(status, flags.full));
    }
  }
}

/** A task run's latest `count` TASK_STATUS reports, oldest first, paged back from the newest. */
async function latestStatuses(
  client: ApiClient,
  runId: string,
  task: { readonly id: string; readonly statusCount: number },
  count: number,
): Promise<StatusInfo[]> {
  const pages: StatusInfo[][] = [];
  let left = Math.min(count, task.statusCount);
  for (let before = task.statusCount + 1; left > 0;) {
    const page = await client.call(routes.taskStatuses, {
      params: { id: runId, taskRunId: task.id },
      query: { before, limit: Math.min(left, STATUS_PAGE) },
    });
    const first = page.statuses[0];
    if (first === undefined) break;
    pages.unshift(page.statuses);
    left -= page.statuses.length;
    before = first.seq;
  }
  return pages.flat();
}

/** `runs cancel --server`. */
export async function cancelRemote(client: ApiClient, id: string, flags: { json?: boolean }): Promise<void> {
  const run = await client.call(routes.cancelRun, { params: { id } });
  print(flags.json ? run : `cancelling ${run.workflow} #${run.number} (run ${run.id}, ${run.state})`);
}

/** `runs retry --server`: a rerun; with `--follow`, its live view and its result as exit code. */
export async function retryRemote(
  client: ApiClient,
  id: string,
  flags: { json?: boolean; from: string; emptyWorkspace?: boolean; follow?: boolean; plain?: boolean },
): Promise<number | void> {
  const run = await client.call(routes.rerun, {
    params: { id },
    body: {
      from: flags.from as 'failed' | 'start',
      ...(flags.emptyWorkspace === true ? { emptyWorkspace: true } : {}),
    },
  });
  if (flags.json && !flags.follow) return print(run);
  const copied = run.workspace?.from === id ? ', in a copy of its workspace' : '';
  const line = `started ${run.workflow} #${run.number} (run ${run.id}), a rerun of ${id} from ${flags.from}${copied}`;
  if (!flags.follow) return print(line);
  if (!flags.json) process.stderr.write(`${line}\n`);
  return followRemoteRun(client, run.id, flags);
}

/**
 * `runs logs --server`: every selected attempt's log, task run by task run; with `--follow`,
 * each task run's log stream (SSE, resumed with Last-Event-ID when dropped) from the moment the
 * run's event stream shows it, until the run has ended and every log is complete.
 */
export async function logsRemote(client: ApiClient, id: string, flags: LogsFlags): Promise<void> {
  const runPath = `/v1/runs/${encodeURIComponent(id)}`;
  const printLine = (task: ViewTask, line: LogLine): void =>
    print(
      flags.json
        ? { action: task.action, attempt: task.attempt, taskRunId: task.id, ...line }
        : `${logPrefix(task)}${line.line}`,
    );
  if (!flags.follow) {
    const detail = await client.call(routes.getRun, { params: { id } });
    const tasks = detail.actions.flatMap((a) => a.attempts).sort((a, b) => a.createdAt - b.createdAt);
    for (const task of tasks.filter((t) => selectsTask(flags, t))) {
      for (let after = 0; ;) {
        const page = await client.call(routes.taskLogs, {
          params: { id, taskRunId: task.id },
          query: { after, limit: PAGE },
        });
        for (const line of page.lines) printLine(task, line);
        if (page.lines.length < PAGE) break;
        after = page.lastSeq;
      }
    }
    return;
  }
  const followed = new Set<string>();
  const followers: Promise<void>[] = [];
  const follow = (task: ViewTask): void => {
    if (followed.has(task.id) || !selectsTask(flags, task)) return;
    followed.add(task.id);
    followers.push(followTaskLog(client, `${runPath}/tasks/${task.id}/logs/stream`, (line) => printLine(task, line)));
  };
  let ended = false;
  const events = followEvents(client, `${runPath}/events`, {
    what: `the event stream of run ${id}`,
    done: () => ended,
  });
  for await (const message of events) {
    const { event, data } = message as RunStreamEvent;
    if (event === 'snapshot') for (const task of data.tasks) follow(task);
    else if (event === 'task') follow(data.task);
    else if (event === 'end') ended = true;
  }
  await Promise.all(followers);
}

/** Print a task run's log from its stream until its `end` event, reconnecting from the last seq. */
async function followTaskLog(client: ApiClient, path: string, onLine: (line: LogLine) => void): Promise<void> {
  let lastSeq = 0;
  const events = followEvents(client, path, {
    what: `the log stream ${path}`,
    done: () => false,
    headers: (): Record<string, string> => (lastSeq > 0 ? { 'last-event-id': String(lastSeq) } : {}),
  });
  for await (const { event, data } of events) {
    if (event === 'log') {
      const line = data as LogLine;
      if (line.seq <= lastSeq) continue;
      onLine(line);
      lastSeq = line.seq;
    } else if (event === 'end') return;
  }
}
