import { messageOf } from '../domain/errors.js';
import type { OwnedStore, RunRecord } from '../store/types.js';
import type { RunExecution } from './run-execution.js';

/** One run this replica carries: under which replica id, through which store view. */
export interface CarriedRun {
  readonly id: string;
  /** the replica id it was claimed under */
  readonly owner: string;
  /** the store view its execution writes through (revoked when the run is let go) */
  readonly view: OwnedStore;
  /** resolves when its execution returned (the run ended, or was let go) */
  readonly done: Promise<RunRecord | undefined>;
}

interface Entry extends CarriedRun {
  done: Promise<RunRecord | undefined>;
  execution: RunExecution | undefined;
  /** the first cancel's reason, if one was asked */
  cancel: string | undefined;
  /** how many cancels were asked (at most two count: the second stops the finally stages) */
  cancels: number;
  /** how many of them its execution was given */
  applied: number;
  /** let go before the execution existed */
  abandoned: string | undefined;
}

/** What `CarriedRuns` tells its engine. */
export interface CarriedRunsOptions {
  /** a run stopped being carried here (room for another); `run` is its final record, if it ended */
  readonly ended: (run: RunRecord | undefined) => void;
  readonly warn: (message: string) => void;
}

/** The first cancel stops the run, the second its finally stages: more change nothing. */
const MAX_CANCELS = 2;

/**
 * Give a run's execution, once it exists, the cancels asked that it has not been given (with
 * `reason`, else the first cancel's).
 */
function applyCancels(entry: Entry, reason = entry.cancel): void {
  const { execution } = entry;
  if (execution === undefined || reason === undefined) return;
  while (entry.applied < entry.cancels) {
    entry.applied += 1;
    execution.cancel(reason);
  }
}

/**
 * The runs this replica carries, by id: their executions, and what may be asked of them from
 * outside (cancel, a decision recorded in the store, letting go). An execution is made
 * asynchronously (its secrets are read first), so what is asked before it exists is applied as
 * soon as it does.
 */
export class CarriedRuns {
  readonly #runs = new Map<string, Entry>();
  readonly #options: CarriedRunsOptions;

  constructor(options: CarriedRunsOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#runs.size;
  }

  /**
   * Carry run `id`: `body` makes its execution, hands it over through `carry` (at once), and
   * resolves with the run's final record.
   */
  add(
    id: string,
    owner: string,
    view: OwnedStore,
    body: (carry: (execution: RunExecution) => void) => Promise<RunRecord>,
  ): void {
    const entry: Entry = {
      id,
      owner,
      view,
      done: Promise.resolve(undefined),
      execution: undefined,
      cancel: undefined,
      cancels: 0,
      applied: 0,
      abandoned: undefined,
    };
    this.#runs.set(id, entry);
    const carry = (execution: RunExecution): void => {
      entry.execution = execution;
      if (entry.abandoned !== undefined) execution.abandon(entry.abandoned);
      else applyCancels(entry);
    };
    entry.done = body(carry)
      .catch((error: unknown) => {
        this.#options.warn(`run ${id}: ${messageOf(error)}`);
        return undefined;
      })
      .then((run) => {
        this.#runs.delete(id);
        this.#options.ended(run);
        return run;
      });
  }

  get(id: string): CarriedRun | undefined {
    return this.#runs.get(id);
  }

  ids(): string[] {
    return [...this.#runs.keys()];
  }

  /** How many runs take room: all but those only waiting for an approval. */
  busy(): number {
    let count = 0;
    for (const entry of this.#runs.values()) if (entry.execution?.waitingForApproval !== true) count += 1;
    return count;
  }

  /**
   * Cancel run `id` if it is carried here; false otherwise. `count` is how many cancels the store
   * holds for it (`RunLeaseStore.requestCancel`): the execution is given each one once, however
   * often the store is read. Without `count`, one more than it was given (a cancel not recorded).
   */
  cancel(id: string, reason: string, count?: number): boolean {
    const entry = this.#runs.get(id);
    if (entry === undefined) return false;
    entry.cancel ??= reason;
    entry.cancels = Math.min(MAX_CANCELS, Math.max(entry.cancels, count ?? entry.applied + 1));
    applyCancels(entry, reason);
    return true;
  }

  cancelAll(reason: string): void {
    for (const id of this.#runs.keys()) this.cancel(id, reason);
  }

  /** A decision was recorded for gate `taskRunId` of run `id`: have it read. False when not carried here. */
  refreshGate(id: string, taskRunId: string): boolean {
    const entry = this.#runs.get(id);
    if (entry === undefined) return false;
    entry.execution?.refreshGate(taskRunId);
    return true;
  }

  /**
   * Let go of runs: those only waiting for an approval (`waiting`) or all, and only those held
   * under replica id `owner` when given. Each one's store view is revoked (nothing more it
   * writes lands) and its execution abandoned (engine/run-execution.ts `abandon`). Returns them;
   * their `done` resolves once their executions have stopped.
   */
  abandon(which: 'waiting' | 'all', why: string, owner?: string): CarriedRun[] {
    const out: CarriedRun[] = [];
    for (const entry of this.#runs.values()) {
      if (owner !== undefined && entry.owner !== owner) continue;
      if (which === 'waiting' && entry.execution?.waitingForApproval !== true) continue;
      entry.view.revoke();
      if (entry.execution === undefined) entry.abandoned ??= why;
      else entry.execution.abandon(why);
      out.push(entry);
    }
    return out;
  }

  /** Resolves once no run is carried here any more. */
  async settled(): Promise<void> {
    while (this.#runs.size > 0) await Promise.all([...this.#runs.values()].map((e) => e.done));
  }
}
