import { setLongTimeout } from '../domain/long-timer.js';

/** Why a run or a stage is being stopped. */
export interface StopReason {
  /**
   * `cancel`: asked by a user; `timeout`: the run's timeout; `fail-fast`: a sibling failed;
   * `abandon`: this replica no longer holds the run (nothing more is recorded, see
   * `RunExecution.abandon`)
   */
  readonly kind: 'cancel' | 'timeout' | 'fail-fast' | 'abandon';
  readonly message: string;
}

/**
 * A one-shot stop signal that children can hang off (run → stage → task attempt).
 * Stopping a parent stops every child; a child can be stopped alone (fail-fast stops a stage).
 */
export class Cancellation {
  private stopReason: StopReason | undefined;
  private readonly listeners = new Set<(reason: StopReason) => void>();
  private controller: AbortController | undefined;

  constructor(parent?: Cancellation) {
    if (parent) {
      const off = parent.onStop((reason) => this.stop(reason));
      this.listeners.add(() => off());
    }
  }

  get stopped(): boolean {
    return this.stopReason !== undefined;
  }

  get reason(): StopReason | undefined {
    return this.stopReason;
  }

  /** An AbortSignal that aborts when this stops, for ports that take one. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      const controller = new AbortController();
      this.controller = controller;
      this.onStop((reason) => controller.abort(new Error(reason.message)));
    }
    return this.controller.signal;
  }

  /** Stop (first reason wins); calls every listener once. */
  stop(reason: StopReason): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    for (const listener of [...this.listeners]) listener(reason);
    this.listeners.clear();
  }

  /** Call `fn` when stopped (at once if already stopped). Returns a function that unsubscribes. */
  onStop(fn: (reason: StopReason) => void): () => void {
    if (this.stopReason) {
      fn(this.stopReason);
      return () => undefined;
    }
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Resolves after `ms`, or early (with false) when stopped. */
  sleep(ms: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const cancel = setLongTimeout(() => {
        off();
        resolve(true);
      }, ms);
      const off = this.onStop(() => {
        cancel();
        resolve(false);
      });
    });
  }
}
