import { messageOf } from '../domain/errors.js';
import type { ClaimedRun, RunLeaseStore } from '../store/types.js';

/** Default backstop poll of the claimer (it is woken by notifications first), ms. */
export const CLAIM_POLL_MS = 2000;

/** Options of a `RunClaimer`. */
export interface RunClaimerOptions {
  readonly leases: RunLeaseStore;
  /** the replica id to claim as; undefined while the replica holds no lease (nothing is claimed) */
  readonly owner: () => string | undefined;
  /** how many more runs this replica may carry now */
  readonly room: () => number;
  /** claim only among these runs (an engine carrying only what it started); undefined: any */
  readonly only: () => readonly string[] | undefined;
  /** whether to take over runs of dead replicas (a serving engine) */
  readonly takesOver: () => boolean;
  /** replicas known gone before their lease ends (a crashed process of this host) are released first */
  readonly releaseGone?: () => Promise<void>;
  /** carry out a run just claimed or taken over */
  readonly launch: (claimed: ClaimedRun, takenOver: boolean) => void;
  /** backstop poll, ms (default CLAIM_POLL_MS) */
  readonly pollMs?: number;
  readonly warn: (message: string) => void;
}

/**
 * The loop that finds this replica's work: queued runs to claim while it has room, and runs of
 * replicas whose lease expired to take over. It runs a round when kicked (a run was queued,
 * a run ended here, a notification), and on a slow poll as a backstop; one round at a time,
 * with kicks during a round making one more. Takeover runs only when asked (`takeOverSoon`: a
 * heartbeat, a replica let go of its runs) since it is a heavier query.
 */
export class RunClaimer {
  readonly #options: RunClaimerOptions;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #again = false;
  #takeOver = false;
  #stopped = true;

  constructor(options: RunClaimerOptions) {
    this.#options = options;
  }

  /** Start polling (a first round at once). Safe to repeat. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#takeOver = true;
    this.kick();
  }

  /** Run a round soon. */
  kick(): void {
    if (this.#stopped) return;
    if (this.#round !== undefined) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#round = this.#run().finally(() => {
      this.#round = undefined;
      if (this.#again) {
        this.#again = false;
        this.kick();
      } else {
        this.#arm();
      }
    });
  }

  /** Look for runs to take over in the next round, and run one soon. */
  takeOverSoon(): void {
    this.#takeOver = true;
    this.kick();
  }

  /** Resolves once the round under way (if any) and those it asked for are done. */
  async settled(): Promise<void> {
    while (this.#round !== undefined) await this.#round;
  }

  /** Stop; waits for the round under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#round;
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => this.kick(), this.#options.pollMs ?? CLAIM_POLL_MS);
    this.#timer.unref();
  }

  async #run(): Promise<void> {
    const { leases, owner, room, only, launch, warn } = this.#options;
    try {
      if (this.#takeOver && this.#options.takesOver()) {
        this.#takeOver = false;
        await this.#options.releaseGone?.();
        const me = owner();
        // taken over whatever this replica's room: no run may stay without a live owner
        if (me !== undefined) for (const claimed of await leases.takeOver(me, 1000)) launch(claimed, true);
      }
      for (;;) {
        const me = owner();
        const limit = Math.min(room(), 100);
        const scope = only();
        if (me === undefined || limit <= 0 || (scope !== undefined && scope.length === 0)) return;
        const claimed = await leases.claimQueued(me, { limit, ...(scope === undefined ? {} : { only: scope }) });
        for (const run of claimed) launch(run, false);
        if (claimed.length < limit) return;
      }
    } catch (error) {
      warn(`claiming runs: ${messageOf(error)}`);
    }
  }
}
