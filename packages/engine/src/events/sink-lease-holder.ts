import type { SinkLeaseStore } from '../store/types.js';
import { SINK_LEASE_TTL_MS } from './sink-lease.js';

/** How a delivery worker takes sink leases (`DeliveryWorkerOptions.lease`). */
export interface SinkLeaseOptions {
  readonly store: SinkLeaseStore;
  /** this worker's id, unique among the workers sharing the store (`localLeaseIdentity`) */
  readonly owner: string;
  /** an owner known to be gone (a crashed process): its lease is taken without waiting */
  readonly isGone?: (owner: string) => boolean;
  /** lease length, ms (default 30000); must exceed the longest send (an HTTP sink's timeout) */
  readonly ttlMs?: number;
}

/** The sink leases of one delivery worker, as it knows them. */
export interface SinkLeaseHolder {
  /**
   * Make sure this worker holds `sink`'s lease for at least half a lease more, taking or renewing
   * it in the store only when needed (one store call at a time per sink, shared by concurrent
   * callers). Resolves false while another worker holds it; rejects when the store fails, after
   * which the lease counts as not held.
   */
  hold(sink: string): Promise<boolean>;
  /** Give up every lease held, so other workers take those sinks at once. Store errors go to `onError`. */
  releaseAll(onError: (error: unknown) => void): Promise<void>;
}

/** A sink's lease as this worker knows it. */
interface HeldLease {
  /** epoch ms until which the store says we hold it (0: not held) */
  until: number;
  /** a take/renew call in flight, shared by the callers that need it */
  renewing: Promise<boolean> | undefined;
}

/**
 * The lease holder of a worker taking leases as `options` says, on the clock `now` (epoch ms).
 * Without `options`, every `hold` succeeds: the worker assumes it is alone on its store.
 */
export function createSinkLeaseHolder(options: SinkLeaseOptions | undefined, now: () => number): SinkLeaseHolder {
  if (options === undefined) return { hold: () => Promise.resolve(true), releaseAll: () => Promise.resolve() };
  const { store, owner, isGone } = options;
  const ttlMs = Math.max(1, options.ttlMs ?? SINK_LEASE_TTL_MS);
  const leases = new Map<string, HeldLease>();

  /** Take or renew in the store; a holder known to be gone is replaced without waiting. */
  async function acquire(sink: string, at: number): Promise<boolean> {
    if (await store.acquire(sink, owner, at, at + ttlMs)) return true;
    if (isGone === undefined) return false;
    const holder = await store.holder(sink);
    if (holder === undefined || !isGone(holder.owner)) return false;
    return store.acquire(sink, owner, at, at + ttlMs, holder.owner);
  }

  return {
    hold(sink) {
      let held = leases.get(sink);
      if (held === undefined) leases.set(sink, (held = { until: 0, renewing: undefined }));
      const lease = held;
      const at = now();
      if (lease.until - at > ttlMs / 2) return Promise.resolve(true);
      lease.renewing ??= acquire(sink, at)
        .then(
          (ok) => {
            lease.until = ok ? at + ttlMs : 0;
            return ok;
          },
          (error: unknown) => {
            lease.until = 0;
            throw error;
          },
        )
        .finally(() => {
          lease.renewing = undefined;
        });
      return lease.renewing;
    },

    async releaseAll(onError) {
      for (const [sink, lease] of leases) {
        if (lease.until === 0) continue;
        lease.until = 0;
        await store.release(sink, owner).catch(onError);
      }
    },
  };
}
