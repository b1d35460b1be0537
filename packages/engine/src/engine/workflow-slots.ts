/** A wait for a slot: `granted` resolves with the release function, or undefined once aborted. */
export interface SlotRequest {
  readonly granted: Promise<(() => void) | undefined>;
  /** Stop waiting (no effect once granted): `granted` resolves with undefined. Safe to repeat. */
  abort(): void;
}

interface Waiter {
  readonly limit: number;
  readonly grant: (release: () => void) => void;
}

/**
 * Per-workflow caps on running runs (a workflow's `maxRuns`). Every run the engine carries out
 * holds one slot of its workflow, capped or not, so the count is right when versions with and
 * without a cap run side by side. Waiters are served strictly in arrival order per workflow:
 * a later run never overtakes an earlier one, even one with a higher cap.
 */
export class WorkflowSlots {
  private readonly running = new Map<string, number>();
  private readonly queues = new Map<string, Waiter[]>();

  /** Runs of `workflow` holding a slot now. */
  held(workflow: string): number {
    return this.running.get(workflow) ?? 0;
  }

  /** Runs of `workflow` waiting for a slot now. */
  waiting(workflow: string): number {
    return this.queues.get(workflow)?.length ?? 0;
  }

  /**
   * Take a slot at once, over the cap if need be: a run that was already running (recovery
   * after a restart) or one of a workflow without a cap. Returns the release function (call it
   * once; later calls do nothing).
   */
  take(workflow: string): () => void {
    this.running.set(workflow, this.held(workflow) + 1);
    return this.releaser(workflow);
  }

  /** Wait for a slot of `workflow` while fewer than `limit` of its runs hold one. */
  request(workflow: string, limit: number): SlotRequest {
    let settle: ((release: (() => void) | undefined) => void) | undefined;
    const granted = new Promise<(() => void) | undefined>((resolve) => (settle = resolve));
    const waiter: Waiter = { limit, grant: (release) => settle?.(release) };
    const queue = this.queues.get(workflow) ?? [];
    queue.push(waiter);
    this.queues.set(workflow, queue);
    this.pump(workflow);
    return {
      granted,
      abort: () => {
        const current = this.queues.get(workflow);
        const index = current?.indexOf(waiter) ?? -1;
        if (current === undefined || index < 0) return;
        current.splice(index, 1);
        if (current.length === 0) this.queues.delete(workflow);
        settle?.(undefined);
        // the head may have been the one blocking the others
        this.pump(workflow);
      },
    };
  }

  private releaser(workflow: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const count = this.held(workflow) - 1;
      if (count > 0) this.running.set(workflow, count);
      else this.running.delete(workflow);
      this.pump(workflow);
    };
  }

  private pump(workflow: string): void {
    const queue = this.queues.get(workflow);
    while (queue !== undefined && queue.length > 0 && this.held(workflow) < queue[0]!.limit) {
      const next = queue.shift()!;
      next.grant(this.take(workflow));
    }
    if (queue !== undefined && queue.length === 0) this.queues.delete(workflow);
  }
}
