import { formatDurationMs } from '../domain/duration.js';
import { PilotageError } from '../domain/errors.js';
import type { ApiClient } from './api-client.js';
import { EXIT } from './output.js';
import { RunOutput, type RunOutputFlags } from './render/run-output.js';
import { RunView, type RunOutline, type ViewRun, type ViewTask, type ViewUpdate } from './render/run-view.js';
import { sseEvents } from './sse-events.js';

/** The parts of `GET /v1/runs/:id` the CLI reads. */
export interface RemoteRunDetail {
  readonly run: ViewRun;
  readonly stages: RunOutline['stages'];
  readonly actions: readonly { readonly name: string; readonly attempts: readonly ViewTask[] }[];
}

/** How many times a dropped event stream is reopened before giving up. */
const RECONNECTS = 10;

/**
 * Follow a run on a server to its end over SSE (`/v1/runs/:id/events`) with the same live view
 * as a local run, then print the summary (failed actions with their last log lines). The first
 * Ctrl-C asks the server to cancel the run and keeps following; a second one quits at once. A
 * dropped stream is reopened (a fresh snapshot each time). Resolves with the exit code: 0 when
 * the run succeeded, 130 when interrupted, 1 otherwise.
 */
export async function followRemoteRun(client: ApiClient, runId: string, flags: RunOutputFlags): Promise<number> {
  let output: RunOutput | undefined;
  let final: ViewRun | undefined;
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(EXIT.interrupted);
    interrupted = true;
    process.stderr.write('\ncancelling (Ctrl-C again to quit at once)…\n');
    client.request('POST', `/v1/runs/${runId}/cancel`).catch((error: unknown) => {
      process.stderr.write(`could not cancel: ${error instanceof Error ? error.message : String(error)}\n`);
    });
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    for (let attempt = 0; final === undefined; attempt += 1) {
      if (attempt > RECONNECTS) {
        throw new PilotageError('UNAVAILABLE', `lost the event stream of run ${runId} ${RECONNECTS} times; giving up`);
      }
      if (attempt > 0) await new Promise((r) => setTimeout(r, 1000));
      let stream: NodeJS.ReadableStream;
      try {
        stream = await client.stream(`/v1/runs/${runId}/events`);
      } catch (error) {
        if (error instanceof PilotageError && error.code === 'UNAVAILABLE' && attempt < RECONNECTS) continue;
        throw error;
      }
      for await (const { event, data } of sseEvents(stream)) {
        const body = data as Record<string, never>;
        if (event === 'snapshot') {
          const snapshot = data as { run: ViewRun; stages: RunOutline['stages']; tasks: ViewTask[] };
          if (output === undefined) {
            output = new RunOutput(new RunView({ name: snapshot.run.workflow, stages: snapshot.stages }), flags);
            output.start();
          }
          output.apply({ kind: 'run', run: snapshot.run });
          for (const task of snapshot.tasks) output.apply({ kind: 'task', task });
        } else if (event === 'end') {
          final = (data as { run: ViewRun }).run;
        } else if (output !== undefined && ['run', 'task', 'status', 'refused'].includes(event)) {
          output.apply({ kind: event, ...body } as ViewUpdate);
        }
      }
    }
    output?.stop();
    await summarize(client, final, flags);
    if (final.state === 'succeeded') return EXIT.ok;
    return interrupted ? EXIT.interrupted : EXIT.failed;
  } finally {
    output?.dispose();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

/** After a remote run: the result line, and each failed attempt's reason and last log lines. */
async function summarize(client: ApiClient, run: ViewRun, flags: RunOutputFlags): Promise<void> {
  const detail = await client.request<RemoteRunDetail>('GET', `/v1/runs/${run.id}`);
  const tasks = detail.actions.flatMap((a) => a.attempts);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ kind: 'result', run: detail.run, tasks })}\n`);
    return;
  }
  const out = run.state === 'succeeded' ? process.stdout : process.stderr;
  for (const task of tasks.filter((t) => t.state === 'failed' || t.state === 'errored')) {
    out.write(
      `\n✘ ${task.stage}/${task.action} (attempt ${task.attempt}) ${task.state}: ${task.reason ?? task.message ?? ''}\n`,
    );
    const tail = await client.request<{ lines: { stream: string; line: string }[] }>(
      'GET',
      `/v1/runs/${run.id}/tasks/${task.id}/logs?tail=20`,
    );
    for (const line of tail.lines) out.write(`  │ ${line.stream === 'stderr' ? '!' : ' '} ${line.line}\n`);
  }
  const elapsed = run.startedAt && run.endedAt ? formatDurationMs(run.endedAt - run.startedAt) : '';
  out.write(
    `\nrun ${run.workflow} #${run.number} ${run.state}${run.reason ? ` (${run.reason})` : ''} in ${elapsed} — id ${run.id}\n` +
      `details: pilotage runs show ${run.id} --server ${client.server}\n`,
  );
}
