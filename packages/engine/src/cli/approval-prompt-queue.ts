import { ConflictError, messageOf } from '../domain/errors.js';
import type { Engine } from '../engine/engine.js';
import type { EngineUpdate } from '../engine/ports.js';
import { promptApproval } from './approval-prompt.js';
import type { RunOutput } from './render/run-output.js';
import { isWaitingGate, type ViewTask } from './render/run-view.js';

/** What the prompts need: the engine that carries the run, the output to pause, who answers. */
export interface ApprovalPromptQueueDeps {
  readonly engine: Pick<Engine, 'decide'>;
  readonly output: Pick<RunOutput, 'pause' | 'resume'>;
  /** recorded as the approver (the OS user) */
  readonly by: string;
  readonly input: NodeJS.ReadableStream;
  readonly terminal: NodeJS.WritableStream;
}

/**
 * `pilotage run` on a terminal: each approval stage that starts waiting is asked about, one at a
 * time, with the live view paused meanwhile. The answer is decided through the engine that
 * carries the run (the stage moves on at once). A decision taken elsewhere (another shell, the
 * web UI), the stage's timeout or the run's end closes the question. Ctrl-C at the prompt cancels
 * the run, as it does elsewhere.
 */
export class ApprovalPromptQueue {
  private readonly queue: ViewTask[] = [];
  private readonly seen = new Set<string>();
  private current: { readonly taskId: string; readonly stop: AbortController } | undefined;
  private closed = false;

  constructor(private readonly deps: ApprovalPromptQueueDeps) {}

  /** Fold an engine update in: a gate that starts waiting is queued; one that moved on is dropped. */
  apply(update: EngineUpdate): void {
    if (this.closed || update.kind !== 'task') return;
    const { task } = update;
    if (isWaitingGate(task)) {
      if (this.seen.has(task.id)) return;
      this.seen.add(task.id);
      this.queue.push(task);
      if (this.current === undefined) void this.next();
      return;
    }
    if (this.current?.taskId === task.id) this.current.stop.abort();
    const queued = this.queue.findIndex((t) => t.id === task.id);
    if (queued >= 0) this.queue.splice(queued, 1);
  }

  /** Stop asking (the run ended): a question open now is closed. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.current?.stop.abort();
  }

  private async next(): Promise<void> {
    const task = this.queue.shift();
    if (task === undefined || this.closed) return;
    const stop = new AbortController();
    this.current = { taskId: task.id, stop };
    const { output, terminal } = this.deps;
    output.pause();
    try {
      const answer = await promptApproval({
        input: this.deps.input,
        output: terminal,
        terminal: true,
        question: `approve stage ${task.stage} of run ${task.runId}? [y/n] `,
        signal: stop.signal,
        onInterrupt: () => void process.emit('SIGINT'),
      });
      if (answer !== undefined) {
        const decision = { ...answer, by: this.deps.by };
        await this.deps.engine.decide(task.runId, task.stage, decision).catch((error: unknown) => {
          const why = error instanceof ConflictError ? 'it was decided elsewhere first' : messageOf(error);
          terminal.write(`your answer was not recorded: ${why}\n`);
        });
      }
    } finally {
      this.current = undefined;
      if (!this.closed) output.resume();
    }
    await this.next();
  }
}
