import { messageOf } from '../domain/errors.js';
import type { ClaimedRun, RunLeaseStore } from '../store/types.js';

/** Default backstop poll of the claimer (it is woken by notifications first), ms. */
export const CLAIM_POLL_MS = 2000;

/** Most runs taken over in one statement (more are taken in the rounds that follow). */
export const TAKEOVER_BATCH = 100;

/** Most queued runs claimed in one statement (a round claims again while it fills its limit). */
const CLAIM_BATCH = 100;

/** Levels of child runs taken over with their callers in one round (deeper ones at the next heartbeat). */
const MAX_CHILD_DEPTH = 8;

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
 * The loop that finds this replica's work: runs of replicas whose lease expired to take over,
 * then queued runs to claim, both only while it has room (`room`, from `maxActiveRuns`). It runs
 * a round when kicked (a run was queued, a run ended here, a notification), and on a slow poll
 * as a backstop; one round at a time, with kicks during a round making one more. Takeover is
 * looked for when asked (`takeOverSoon`: a heartbeat, a replica let go of its runs), since it is
 * a heavier query, and then in every round that has room until a takeover comes back short of
 * its limit: runs left without a live owner because every replica was full are taken first as
 * room frees, before any queued run, here or (at its next heartbeat) on any other replica. Runs
 * that take no room are taken beyond it: those waiting at an approval gate, and the child runs
 * (`uses:`) of runs this replica holds, as a child run is started on its caller's replica.
 */
export class RunClaimer {
  readonly #options: RunClaimerOptions;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #again = false;
  /** a heartbeat or a replica letting go asked for a look at other replicas' runs */
  #takeOver = false;
  /** runs without a live owner may be left (a takeover was cut short by room): taken before queued runs */
  #orphansLeft = false;
  /** the last round saw no queued run nobody holds, and none was announced since: `freed` has nothing to do */
  #queueEmpty = false;
  /** counts the kicks that may announce a queued run (all but `freed`): a round ended by one cannot call the queue empty */
  #announced = 0;
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

  /** Run a round soon (a run was queued, a notification, the poll): the queue may hold runs again. */
  kick(): void {
    this.#announced += 1;
    this.#queueEmpty = false;
    this.#roundSoon();
  }

  /**
   * A run ended, here or on another replica: a queued run may fit now (its workflow's `maxRuns`,
   * its group, this replica's room). Nothing to do when the last round found no queued run and
   * none was announced since, and no orphaned run waits for room: with three replicas every run
   * end was three claim rounds (two statements each) that found nothing.
   */
  freed(): void {
    if (this.#queueEmpty && !this.#orphansLeft) return;
    this.#roundSoon();
  }

  /** Run a round soon; a kick during a round makes one more after it. */
  #roundSoon(): void {
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
        this.#roundSoon();
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
    try {
      if (this.#options.takesOver()) await this.#takeOverOrphans();
      await this.#claimQueued();
    } catch (error) {
      this.#options.warn(`claiming runs: ${messageOf(error)}`);
    }
  }

  /** Take over runs left without a live owner: within room, then what takes none. */
  async #takeOverOrphans(): Promise<void> {
    const { leases, owner, room, launch } = this.#options;
    let beyond = false;
    if (this.#takeOver) {
      this.#takeOver = false;
      await this.#options.releaseGone?.();
      this.#orphansLeft = true;
      beyond = true;
    }
    // Within room, as graphile-worker and Temporal take expired work only into free slots: a
    // replica taking more than it may carry overloads itself and loses its own lease. What is
    // left stays for any replica with room, and comes before queued runs here, so that new
    // work never starves it.
    const me = owner();
    const limit = Math.min(room(), TAKEOVER_BATCH);
    if (this.#orphansLeft && me !== undefined && limit > 0) {
      const taken = await leases.takeOver(me, limit);
      this.#orphansLeft = taken.length >= limit;
      beyond ||= taken.length > 0;
      for (const claimed of taken) launch(claimed, true);
    }
    // Beyond room, what takes none: runs waiting at a gate, and the child runs (`uses:`) of
    // runs held here, and theirs (a caller waiting on a child nobody has room for would never end).
    for (let depth = 0; beyond && me !== undefined && depth < MAX_CHILD_DEPTH; depth++) {
      const taken = await leases.takeOverBeyondRoom(me);
      beyond = taken.length > 0;
      for (const claimed of taken) launch(claimed, true);
    }
  }

  /** Claim queued runs while there is room; notes when the queue was found empty (see `freed`). */
  async #claimQueued(): Promise<void> {
    const { leases, owner, room, only, launch } = this.#options;
    const announced = this.#announced;
    for (;;) {
      const me = owner();
      const limit = Math.min(room(), CLAIM_BATCH);
      const scope = only();
      if (me === undefined || limit <= 0 || (scope !== undefined && scope.length === 0)) return;
      const claimed = await leases.claimQueued(me, { limit, ...(scope === undefined ? {} : { only: scope }) });
      for (const run of claimed) launch(run, false);
      if (claimed.length < limit) {
        // (an engine carrying only its own runs keeps a round per run end: it has few)
        if (scope === undefined && !(await leases.hasQueued()) && this.#announced === announced) {
          this.#queueEmpty = true;
        }
        return;
      }
    }
  }
}
