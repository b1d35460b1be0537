import { messageOf } from '../domain/errors.js';
import type { SlotStore } from '../store/types.js';
import { Semaphore } from './semaphore.js';

/** How often a wait for a slot held elsewhere in the cluster asks the store again, at most, ms. */
export const SLOT_POLL_MS = 500;

/**
 * How long a store slot an attempt gave back stays with this replica for its next attempt, ms.
 * A run's next action usually starts within a millisecond or two of the last one ending; keeping
 * the slot that long saves the two store writes (give back, take again) per attempt. Another
 * replica waiting at the cluster's cap waits at most this much longer.
 */
export const SPARE_SLOT_MS = 50;

/** The engine's cap on task attempts running at once. */
export interface TaskSlots {
  /** Wait for a slot; resolves with the function that gives it back (call it once). */
  acquire(): Promise<() => void>;
  /** Something may have given a slot back elsewhere (a notification): try again now. */
  wake(): void;
  /** Give back at once the slots kept for a next attempt (the engine is closing). */
  close(): Promise<void>;
}

/** Options of `createClusterSlots`. */
export interface ClusterSlotsOptions {
  readonly store: SlotStore;
  /** the replica to hold slots as; undefined while it holds no lease */
  readonly owner: () => string | undefined;
  /** the engine's `maxParallel`: slots across the cluster */
  readonly limit: number;
  /** tell other replicas a slot was given back */
  readonly released: () => void;
  readonly warn: (message: string) => void;
}

/**
 * `maxParallel` across every replica on the store: a local semaphore first (this replica never
 * holds more than `limit`), then a slot row in the store (`SlotStore`), held until the attempt
 * ends. While every slot is held elsewhere, waiters here ask again when woken (a slot given back
 * anywhere is notified) or every SLOT_POLL_MS, first come first served within this replica.
 * When the store cannot be reached, the attempt proceeds on the local cap alone (and says so),
 * rather than stalling runs on a store hiccup. A store slot given back is kept SPARE_SLOT_MS for
 * this replica's next attempt (never more than `limit` held: a spare slot is one the local cap
 * already counted) and given back to the store after that, or at `close`.
 */
export function createClusterSlots(options: ClusterSlotsOptions): TaskSlots {
  const local = new Semaphore(options.limit);
  let wakeUp: (() => void) | undefined;
  /** one store waiter at a time: the head of the local line */
  let head = Promise.resolve();
  /** store slots no attempt uses now, kept for the next one until `until` */
  const spare: { owner: string; slot: number; until: number; timer: NodeJS.Timeout }[] = [];
  /** attempts past the local cap waiting for a store slot (the head included) */
  let waiting = 0;

  const giveBack = (owner: string, slots: readonly number[]): Promise<void> =>
    options.store.releaseSome(owner, slots).then(
      () => options.released(),
      (error: unknown) =>
        options.warn(`task slots: could not give slots ${slots.join(', ')} back: ${messageOf(error)}`),
    );
  /** Give back, in one write per owner, every spare slot due within a tenth of SPARE_SLOT_MS. */
  const giveBackDue = (): void => {
    const due = Date.now() + SPARE_SLOT_MS / 10;
    const byOwner = new Map<string, number[]>();
    for (let i = spare.length - 1; i >= 0; i--) {
      const kept = spare[i]!;
      if (kept.until > due) continue;
      clearTimeout(kept.timer);
      spare.splice(i, 1);
      const slots = byOwner.get(kept.owner);
      if (slots === undefined) byOwner.set(kept.owner, [kept.slot]);
      else slots.push(kept.slot);
    }
    for (const [owner, slots] of byOwner) void giveBack(owner, slots);
  };
  const keepSpare = (owner: string, slot: number): void => {
    const timer = setTimeout(giveBackDue, SPARE_SLOT_MS);
    timer.unref();
    spare.push({ owner, slot, until: Date.now() + SPARE_SLOT_MS, timer });
    // a waiter here for a slot held elsewhere takes this one now
    wakeUp?.();
  };
  /** a spare slot still held under `owner` (one held under an earlier lease is given back) */
  const takeSpare = (owner: string): { owner: string; slot: number } | undefined => {
    for (let kept = spare.pop(); kept !== undefined; kept = spare.pop()) {
      clearTimeout(kept.timer);
      if (kept.owner === owner) return { owner, slot: kept.slot };
      void giveBack(kept.owner, [kept.slot]);
    }
    return undefined;
  };

  const waitForWake = (): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, SLOT_POLL_MS);
      function done(): void {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  const take = async (): Promise<{ owner: string; slot: number } | undefined> => {
    for (;;) {
      const owner = options.owner();
      if (owner !== undefined) {
        const kept = takeSpare(owner);
        if (kept !== undefined) return kept;
        try {
          // a burst (a parallel stage) takes the slots of the attempts waiting behind in one write
          const [slot, ...more] = await options.store.acquireSome(
            owner,
            options.limit,
            Math.min(waiting, options.limit),
          );
          for (const extra of more) keepSpare(owner, extra);
          if (slot !== undefined) return { owner, slot };
        } catch (error) {
          options.warn(`task slots: ${messageOf(error)}; going on with this replica's own cap`);
          return undefined;
        }
      }
      await waitForWake();
    }
  };

  return {
    async acquire() {
      const releaseLocal = await local.acquire();
      let held: { owner: string; slot: number } | undefined;
      waiting += 1;
      try {
        const turn = head.then(() => take());
        head = turn.then(
          () => undefined,
          () => undefined,
        );
        held = await turn;
      } catch (error) {
        releaseLocal();
        throw error;
      } finally {
        waiting -= 1;
      }
      let released = false;
      return () => {
        if (released) return;
        released = true;
        // kept before the local slot is given back, so that the next waiter here finds it
        if (held !== undefined) keepSpare(held.owner, held.slot);
        releaseLocal();
      };
    },
    wake() {
      wakeUp?.();
    },
    async close() {
      const kept = spare.splice(0);
      for (const { timer } of kept) clearTimeout(timer);
      const owners = new Set(kept.map((k) => k.owner));
      await Promise.all(
        [...owners].map((owner) =>
          giveBack(
            owner,
            kept.filter((k) => k.owner === owner).map((k) => k.slot),
          ),
        ),
      );
    },
  };
}
