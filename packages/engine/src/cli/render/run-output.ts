import type logUpdateModule from 'log-update';
import { jsonLine } from '../output.js';
import { look } from '../terminal.js';
import type { RunView, ViewUpdate } from './run-view.js';

/** How a followed run is shown: `json` (one object per line), `plain` (one line per event), else live. */
export interface RunOutputFlags {
  readonly json?: boolean;
  readonly plain?: boolean;
  /** with `json`: include log lines (default true; `--no-logs` sets false) */
  readonly logs?: boolean;
}

/**
 * Shows a run while it goes, the same way for a local run (engine updates) and a remote one
 * (SSE events): on a terminal a live tree redrawn every 100 ms; otherwise (and with `TERM=dumb`,
 * which cannot redraw) one timestamped line per change; with `json` every update as one JSON line (log lines too, unless `logs` is
 * false). Call `start` once, `apply` per update, `stop` at the end (draws the
 * final tree) and `dispose` always (stops the timer; safe to repeat).
 */
export class RunOutput {
  readonly live: boolean;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(
    readonly view: RunView,
    private readonly flags: RunOutputFlags,
    private readonly logUpdate: typeof logUpdateModule | undefined,
  ) {
    this.live = logUpdate !== undefined;
  }

  /** The output for `flags`; the live view's renderer (log-update) is loaded only when it is used. */
  static async open(view: RunView, flags: RunOutputFlags): Promise<RunOutput> {
    const live = !flags.json && !flags.plain && look().redraw;
    return new RunOutput(view, flags, live ? (await import('log-update')).default : undefined);
  }

  start(): void {
    const logUpdate = this.logUpdate;
    if (logUpdate !== undefined && this.timer === undefined && !this.stopped)
      this.timer = setInterval(() => logUpdate(this.view.tree(Date.now())), 100);
  }

  /** Fold `update` into the view and print what it produces; `json` prints `asJson` (default the update). */
  apply(update: ViewUpdate, asJson: unknown = update): void {
    const lines = this.view.apply(update);
    if (this.flags.json) {
      if (update.kind !== 'log' || this.flags.logs !== false) write(jsonLine(asJson));
    } else if (!this.live) {
      const at = new Date().toISOString().slice(11, 23);
      for (const line of lines) write(`${at} ${line}`);
    }
  }

  /**
   * Stop redrawing and leave the tree as it is now above the cursor (live mode), so that a
   * question can be asked below it; `resume` redraws below the answer.
   */
  pause(): void {
    if (this.timer === undefined || this.logUpdate === undefined) return;
    this.dispose();
    this.logUpdate(this.view.tree(Date.now()));
    this.logUpdate.done();
  }

  resume(): void {
    this.start();
  }

  /** The run ended: draw the final tree (live mode). */
  stop(): void {
    if (this.stopped || this.logUpdate === undefined) return;
    this.stopped = true;
    this.dispose();
    this.logUpdate(this.view.tree(Date.now()));
    this.logUpdate.done();
  }

  dispose(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

function write(line: string): void {
  process.stdout.write(`${line}\n`);
}
