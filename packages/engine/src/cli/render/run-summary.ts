import { formatDurationMs } from '../../domain/duration.js';
import { look } from '../terminal.js';
import type { ViewRun, ViewTask } from './run-view.js';
import { jsonLine } from '../output.js';

/** A log line as the summary shows it. */
export interface SummaryLogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

/** What `writeRunSummary` shows. */
export interface RunSummary {
  /** the ended run */
  readonly run: ViewRun;
  /** its task runs, every attempt */
  readonly tasks: readonly ViewTask[];
  /** one JSON line instead of text */
  readonly json?: boolean | undefined;
  /** the last log lines of a task run (up to 20) */
  readonly tail: (task: ViewTask) => Promise<readonly SummaryLogLine[]>;
  /** the line after the result line: where to look next */
  readonly footer: string;
}

/**
 * The end of a followed run (local or on a server). With `json`, one line
 * `{kind: 'result', run, tasks}` on stdout. Otherwise, on stdout when the run succeeded (else on
 * stderr): each failed or errored attempt with its reason and last log lines, then the result
 * line and `footer`.
 */
export async function writeRunSummary(summary: RunSummary): Promise<void> {
  const { run, tasks } = summary;
  if (summary.json) {
    process.stdout.write(`${jsonLine({ kind: 'result', run, tasks })}\n`);
    return;
  }
  const out = run.state === 'succeeded' ? process.stdout : process.stderr;
  const { glyphs, paint } = look(out);
  for (const task of tasks.filter((t) => t.state === 'failed' || t.state === 'errored')) {
    out.write(
      `\n${paint.state(task.state, glyphs.cross)} ${task.stage}/${task.action} (attempt ${task.attempt}) ${paint.state(task.state, task.state)}: ${task.reason ?? task.message ?? ''}\n`,
    );
    for (const line of await summary.tail(task))
      out.write(`  ${glyphs.bar} ${line.stream === 'stderr' ? '!' : ' '} ${line.line}\n`);
  }
  const elapsed = run.startedAt && run.endedAt ? formatDurationMs(run.endedAt - run.startedAt) : '';
  out.write(
    `\nrun ${run.workflow} #${run.number} ${paint.state(run.state, run.state)}${run.reason ? ` (${run.reason})` : ''} in ${elapsed} ${glyphs.dash} id ${run.id}\n` +
      `${summary.footer}\n`,
  );
}
