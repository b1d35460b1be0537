import type { StatusInfo } from '@pilotage/api';
import { formatDurationMs } from '../../domain/duration.js';
import { sizeText } from '../../domain/task-run-limits.js';
import { CALL_COMPONENT_PREFIX } from '../../plan/compile-uses.js';
import { look } from '../terminal.js';
import type { ViewRun, ViewTask } from './run-view.js';

/** One line per run: id, workflow #number, state, duration, creation time, reason. */
export function runLine(run: ViewRun): string {
  const elapsed = run.startedAt ? formatDurationMs((run.endedAt ?? Date.now()) - run.startedAt) : '-';
  const when = new Date(run.createdAt).toISOString().replace('T', ' ').slice(0, 19);
  return `${run.id}  ${run.workflow} #${run.number}  ${run.state.padEnd(9)}  ${elapsed.padStart(7)}  ${when}${run.reason ? `  ${run.reason}` : ''}`;
}

/** How much of a long value (inputs, outputs, messages) `runs show` prints without `--full`, characters. */
export const SHOWN_CHARS = 1000;

/**
 * `text` cut to SHOWN_CHARS with a hint saying how long it was and how to see it all, unless
 * `full`. A 140 KB input used to fill the terminal.
 */
export function clip(text: string, full = false): string {
  if (full || text.length <= SHOWN_CHARS) return text;
  const size = Buffer.byteLength(text);
  const shown = size >= 1024 ? `${Math.round(size / 1024)} KiB` : `${size} bytes`;
  return `${text.slice(0, SHOWN_CHARS)}… (${shown} in all; --full shows it whole)`;
}

/** The trigger and inputs line under a run (long values cut unless `full`). */
export function triggerLine(run: ViewRun, full = false): string {
  const details = run.trigger.details === undefined ? '' : ` ${clip(JSON.stringify(run.trigger.details), full)}`;
  return `  trigger: ${run.trigger.kind}${run.trigger.by ? ` by ${run.trigger.by}` : ''}${details}   inputs: ${clip(JSON.stringify(run.inputs), full)}`;
}

/**
 * What `runs show` prints above the task runs: the run line, its trigger and inputs, the run that
 * called it, its concurrency group and its outputs (long values cut unless `full`).
 */
export function runHeader(run: ViewRun, full = false): string[] {
  const lines = [runLine(run), triggerLine(run, full)];
  if (run.parent) lines.push(`  called by run ${run.parent.runId} (task run ${run.parent.taskRunId})`);
  if (run.concurrencyGroup) lines.push(`  concurrency group: ${run.concurrencyGroup}`);
  const workspace = workspaceLine(run);
  if (workspace !== undefined) lines.push(workspace);
  if (run.outputs !== null && run.outputs !== undefined)
    lines.push(`  outputs: ${clip(JSON.stringify(run.outputs), full)}`);
  return lines;
}

/** What is left of the run's workspace, and where it started from; undefined when nothing to say. */
export function workspaceLine(run: ViewRun): string | undefined {
  const { workspace } = run;
  if (workspace === undefined) return undefined;
  const from = workspace.from === null ? '' : ` (started as a copy of run ${workspace.from}'s)`;
  if (workspace.state === 'kept') {
    const until =
      workspace.expiresAt === null ? 'until removed by hand' : `until ${new Date(workspace.expiresAt).toISOString()}`;
    return `  workspace: kept ${until} for a rerun (pilotage runs retry ${run.id})${from}`;
  }
  if (workspace.state === 'expired') return `  workspace: expired and removed${from}`;
  return from === '' ? undefined : `  workspace: started as a copy of run ${workspace.from}'s`;
}

/** A task run (one attempt) with its reason, message, exit code, output and callbacks seen (long values cut unless `full`). */
export function taskBlock(task: ViewTask, full = false): string {
  const elapsed = task.startedAt && task.endedAt ? formatDurationMs(task.endedAt - task.startedAt) : '';
  const lines = [
    `  ${task.stage}/${task.action} attempt ${task.attempt}: ${task.state} ${elapsed}  [${task.component} on ${task.executor}]`,
  ];
  if (task.component.startsWith(CALL_COMPONENT_PREFIX) && task.ref) lines.push(`    child run: ${task.ref}`);
  if (task.reason) lines.push(`    reason: ${task.reason}`);
  if (task.facts.warning) lines.push(`    warning: ${task.facts.warning}`);
  if (task.message) lines.push(`    message: ${clip(task.message, full)}`);
  if (task.exitCode !== null) lines.push(`    exit code: ${task.exitCode}`);
  if (Object.keys(task.output).length > 0) lines.push(`    output: ${clip(JSON.stringify(task.output), full)}`);
  const steps = Object.keys(task.steps);
  if (steps.length > 0) lines.push(`    callbacks: ${steps.join(` ${look().glyphs.arrow} `)}`);
  lines.push(...droppedLines(task));
  return lines.join('\n');
}

/**
 * What a task run reported and the per task run caps dropped: `statuses: 60 stored, 40 dropped
 * past the cap`, `log: 1200 lines (96.1 KiB) dropped past the cap`. Nothing for a quiet one.
 */
export function droppedLines(task: Pick<ViewTask, 'statusCount' | 'dropped'>): string[] {
  const lines: string[] = [];
  const { statuses, logLines, logBytes } = task.dropped;
  if (task.statusCount > 0 || statuses > 0) {
    const past = statuses > 0 ? `, ${statuses} dropped past the cap` : '';
    lines.push(`    statuses: ${task.statusCount} stored${past}`);
  }
  if (logLines > 0) lines.push(`    log: ${logLines} lines (${sizeText(logBytes)}) dropped past the cap`);
  return lines;
}

/** One TASK_STATUS report under its task run in `runs show --statuses`: `#12 10:04:05 40% message`. */
export function statusLine(status: StatusInfo, full = false): string {
  const time = new Date(status.at).toISOString().slice(11, 19);
  const progress = status.progress === null ? '' : ` ${Math.round(status.progress * 100)}%`;
  const message = status.message === null ? '' : ` ${clip(status.message, full)}`;
  const output = status.output === null ? '' : ` ${clip(JSON.stringify(status.output), full)}`;
  return `      #${status.seq} ${time}${progress}${message}${output}`;
}

/** The prefix of a log line: the action, and `#attempt` after the first. */
export function logPrefix(task: Pick<ViewTask, 'action' | 'attempt'>): string {
  return `${task.action}${task.attempt > 1 ? `#${task.attempt}` : ''} ${look().glyphs.bar} `;
}
