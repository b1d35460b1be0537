import { routes, type RunDetail, type RunStreamEvent, type StatusInfo, type TaskRunInfo } from '@pilotage/api';
import { messageOf } from '../domain/errors.js';
import type { ApiClient } from './api-client.js';
import { decideHint } from './approval-hint.js';
import { cancelOnInterrupt } from './interrupt.js';
import { EXIT } from './output.js';
import { RunOutput, type RunOutputFlags } from './render/run-output.js';
import { writeRunSummary } from './render/run-summary.js';
import { RunView, type ViewRun, type ViewUpdate } from './render/run-view.js';
import { followEvents } from './sse-events.js';
import { look } from './terminal.js';

/** `GET /v1/runs/:id`. */
export type RemoteRunDetail = RunDetail;

/**
 * Follow a run on a server to its end over SSE (`/v1/runs/:id/events`) with the same live view
 * as a local run, then print the summary (failed actions with their last log lines). The first
 * Ctrl-C asks the server to cancel the run and keeps following; a second one quits at once. A
 * dropped stream is reopened (a fresh snapshot each time). A snapshot holds no TASK_STATUS
 * report, so each running task run's latest one made before the stream opened (or while it was
 * down) is read and shown once: the first status line would otherwise be missing whenever the
 * component reported before the stream opened. Resolves with the exit code: 0 when the run
 * succeeded, 130 when interrupted, 1 otherwise.
 */
export async function followRemoteRun(client: ApiClient, runId: string, flags: RunOutputFlags): Promise<number> {
  let output: RunOutput | undefined;
  let final: ViewRun | undefined;
  /** the seq of the latest TASK_STATUS report shown, per task run */
  const shownStatus = new Map<string, number>();
  const showStatus = (task: TaskRunInfo, status: StatusInfo): void => {
    if (status.seq <= (shownStatus.get(task.id) ?? 0)) return;
    shownStatus.set(task.id, status.seq);
    output?.apply({ kind: 'status', task, status });
  };
  /**
   * The latest report of each task run in `tasks` still running (or recorded starting: its running
   * is written with its end when it ends within 50 ms) that made one not shown yet, from one read
   * of the run (each attempt's latest report); an ended one's state says more than its last report.
   */
  const catchUpStatuses = async (tasks: readonly TaskRunInfo[]): Promise<void> => {
    const behind = new Map(
      tasks
        .filter(
          (t) => (t.state === 'running' || t.state === 'starting') && t.statusCount > (shownStatus.get(t.id) ?? 0),
        )
        .map((t) => [t.id, t]),
    );
    if (behind.size === 0) return;
    const detail = await client
      .call(routes.getRun, { params: { id: runId }, query: { statuses: 1, transitions: 0 } })
      // what the stream shows from now on is still right; only these lines are missing
      .catch(() => undefined);
    for (const attempt of detail?.actions.flatMap((a) => a.attempts) ?? []) {
      const task = behind.get(attempt.id);
      const latest = attempt.statuses.at(-1);
      if (task !== undefined && latest !== undefined) showStatus(task, latest);
    }
  };
  const interrupt = cancelOnInterrupt(() => {
    client.call(routes.cancelRun, { params: { id: runId } }).catch((error: unknown) => {
      process.stderr.write(`could not cancel: ${messageOf(error)}\n`);
    });
  });
  try {
    const events = followEvents(client, `/v1/runs/${runId}/events`, {
      what: `the event stream of run ${runId}`,
      done: () => final !== undefined,
    });
    for await (const message of events) {
      const { event, data } = message as RunStreamEvent;
      if (event === 'snapshot') {
        const snapshot = data;
        if (output === undefined) {
          output = await RunOutput.open(
            new RunView({ name: snapshot.run.workflow, stages: snapshot.stages }, look(), (task) =>
              decideHint(task.runId, task.stage, { server: client.server }),
            ),
            flags,
          );
          output.start();
        }
        output.apply({ kind: 'run', run: snapshot.run });
        for (const task of snapshot.tasks) output.apply({ kind: 'task', task });
        await catchUpStatuses(snapshot.tasks);
      } else if (event === 'status') {
        showStatus(data.task, data.status);
      } else if (event === 'end') {
        final = data.run;
      } else if (output !== undefined) {
        output.apply({ kind: event, ...data } as ViewUpdate);
      }
    }
    output?.stop();
    const detail = await client.call(routes.getRun, { params: { id: runId } });
    await writeRunSummary({
      run: detail.run,
      tasks: detail.actions.flatMap((a) => a.attempts),
      json: flags.json,
      tail: async (task) =>
        (await client.call(routes.taskLogs, { params: { id: runId, taskRunId: task.id }, query: { tail: 20 } })).lines,
      footer: `details: pilotage runs show ${runId} --server ${client.server}`,
    });
    if (detail.run.state === 'succeeded') return EXIT.ok;
    return interrupt.interrupted() ? EXIT.interrupted : EXIT.failed;
  } finally {
    output?.dispose();
    interrupt.dispose();
  }
}
