import type { LogStore, NewLogLine } from '../store/types.js';

type PendingLine = NewLogLine;

/**
 * Batches a task run's log lines into the store: flushed every `intervalMs` or every
 * `maxLines`, and on `close()`. Lines keep their order. A failed write is retried with the
 * next flush (lines are not dropped); `close()` rethrows the last failure.
 */
export class LogBuffer {
  private pending: PendingLine[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private lastError: unknown;

  constructor(
    private readonly store: LogStore,
    private readonly taskRunId: string,
    private readonly intervalMs = 100,
    private readonly maxLines = 500,
  ) {}

  push(line: PendingLine): void {
    this.pending.push(line);
    if (this.pending.length >= this.maxLines) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
  }

  /** Write what is pending (chained after any write in progress). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(async () => {
      if (this.pending.length === 0) return;
      const batch = this.pending;
      this.pending = [];
      try {
        await this.store.append(this.taskRunId, batch);
        this.lastError = undefined;
      } catch (error) {
        this.pending = batch.concat(this.pending);
        this.lastError = error;
      }
    });
    return this.writing;
  }

  /**
   * Hand over the lines not yet written, once the write under way (if any) has ended: the caller
   * writes them in its own transaction (a task's end with its last lines, one commit). Lines a
   * failed write left are among them; lines pushed later are flushed as before.
   */
  async take(): Promise<PendingLine[]> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
    const lines = this.pending;
    this.pending = [];
    this.lastError = undefined;
    return lines;
  }

  /** Flush everything; rejects if the last write failed. */
  async close(): Promise<void> {
    await this.flush();
    if (this.pending.length > 0) await this.flush();
    if (this.lastError !== undefined) throw this.lastError;
  }
}
