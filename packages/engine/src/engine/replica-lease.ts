import { messageOf } from '../domain/errors.js';
import type { NewReplica, ReplicaStore } from '../store/types.js';

/** Default heartbeat: how often a replica renews its lease, ms. */
export const HEARTBEAT_MS = 5000;
/** Default lease: how long a replica holds its runs without renewing, ms. */
export const LEASE_TTL_MS = 15_000;

/** Who this replica is, but for its id (a new one for every registration). */
export type ReplicaIdentity = Omit<NewReplica, 'id'>;

/** Options of a `ReplicaLease`. */
export interface ReplicaLeaseOptions {
  readonly store: ReplicaStore;
  readonly identity: ReplicaIdentity;
  /** a new, unique replica id (called for each registration) */
  readonly newId: () => string;
  /** renewal interval, ms (default HEARTBEAT_MS) */
  readonly heartbeatMs?: number;
  /** lease length, ms (default LEASE_TTL_MS); must exceed the heartbeat */
  readonly ttlMs?: number;
  /**
   * The lease was lost (`id` is the old id): the renewal found it expired, or none succeeded
   * for as long as it could still be valid. Called once per lost registration, before the
   * replica registers again under a new id. Must stop every action on the runs `id` held.
   */
  readonly onLost: (id: string, why: string) => void;
  /** after each heartbeat, renewed or not (the engine's slow polls hang off it) */
  readonly onBeat?: () => void;
  /** a clock that never jumps back (performance.now), ms */
  readonly monotonic?: () => number;
  readonly warn: (message: string) => void;
}

/**
 * This replica's lease in the store: registered by `start`, renewed every heartbeat, ended by
 * `stop`. A replica that cannot renew in time must assume another has taken its runs: at the
 * latest when the lease may have expired by its own clock (the time of the last renewal sent,
 * plus the lease, minus a margin of a quarter lease) it calls `onLost` without waiting for the
 * store, then registers again under a new id once the store answers. The store never renews an
 * expired lease, so a replica that was paused past its lease learns it at the next heartbeat.
 */
export class ReplicaLease {
  readonly heartbeatMs: number;
  readonly ttlMs: number;
  #id: string | undefined;
  #validUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  /** fires when the lease may have expired without a renewal (a store call that hangs) */
  #fence: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  #stopped = false;
  readonly #options: ReplicaLeaseOptions;
  readonly #now: () => number;

  constructor(options: ReplicaLeaseOptions) {
    this.#options = options;
    this.heartbeatMs = Math.max(1, options.heartbeatMs ?? HEARTBEAT_MS);
    this.ttlMs = options.ttlMs ?? LEASE_TTL_MS;
    if (this.ttlMs <= this.heartbeatMs) {
      throw new RangeError(`the lease (${this.ttlMs}ms) must be longer than the heartbeat (${this.heartbeatMs}ms)`);
    }
    this.#now = options.monotonic ?? (() => performance.now());
  }

  /** The id this replica holds its runs under now; undefined while it is not registered. */
  get id(): string | undefined {
    return this.#id !== undefined && this.#now() < this.#validUntil ? this.#id : undefined;
  }

  /** Register and start the heartbeat. Rejects when the store cannot register it. */
  async start(): Promise<string> {
    const id = await this.#register();
    this.#schedule();
    return id;
  }

  /** Stop the heartbeat and end the lease in the store (unless `release` is false). Safe to repeat. */
  async stop(release = true): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#fence);
    await this.#beating;
    const id = this.#id;
    this.#id = undefined;
    if (release && id !== undefined) {
      await this.#options.store.release(id).catch((error: unknown) => {
        this.#options.warn(`could not end the lease of replica ${id}: ${messageOf(error)}`);
      });
    }
  }

  async #register(): Promise<string> {
    const id = this.#options.newId();
    const sent = this.#now();
    await this.#options.store.register({ ...this.#options.identity, id }, this.ttlMs);
    this.#id = id;
    this.#renewed(sent);
    return id;
  }

  /** A registration or renewal sent at `sent` succeeded: valid until a margin before it may expire. */
  #renewed(sent: number): void {
    const id = this.#id;
    this.#validUntil = sent + this.#validFor();
    clearTimeout(this.#fence);
    this.#fence = setTimeout(
      () => {
        if (id !== undefined && this.#id === id && this.#now() >= this.#validUntil) {
          this.#lose(id, 'no renewal succeeded while the lease was surely valid');
        }
      },
      Math.max(0, this.#validUntil - this.#now()),
    );
    this.#fence.unref();
  }

  /** How long after a renewal was sent the lease surely still holds: the lease minus a margin. */
  #validFor(): number {
    return this.ttlMs - Math.max(1, Math.floor(this.ttlMs / 4));
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#beating = this.#beat().finally(() => {
        this.#beating = undefined;
        this.#schedule();
      });
    }, this.heartbeatMs);
    this.#timer.unref();
  }

  async #beat(): Promise<void> {
    const { store, warn } = this.#options;
    const id = this.#id;
    try {
      if (id === undefined) {
        await this.#register();
      } else {
        const sent = this.#now();
        if (sent >= this.#validUntil) {
          this.#lose(id, 'no renewal succeeded while the lease was surely valid');
          await this.#register();
        } else if (await store.renew(id, this.ttlMs)) {
          if (this.#id === id) this.#renewed(sent);
        } else {
          this.#lose(id, 'the lease had expired when it was renewed');
          await this.#register();
        }
      }
    } catch (error) {
      warn(`replica lease: ${messageOf(error)}`);
      const current = this.#id;
      if (current !== undefined && this.#now() >= this.#validUntil) {
        this.#lose(current, `the store did not answer for too long (${messageOf(error)})`);
      }
    }
    if (!this.#stopped) this.#options.onBeat?.();
  }

  #lose(id: string, why: string): void {
    if (this.#id !== id) return;
    this.#id = undefined;
    this.#validUntil = 0;
    this.#options.onLost(id, why);
  }
}
