import { messageOf } from '../domain/errors.js';
import type { SlotStore } from '../store/types.js';
import { Semaphore } from './semaphore.js';

/** How often a wait for a slot held elsewhere in the cluster asks the store again, at most, ms. */
export const SLOT_POLL_MS = 500;

/** The engine's cap on task attempts running at once. */
export interface TaskSlots {
  /** Wait for a slot; resolves with the function that gives it back (call it once). */
  acquire(taskRunId?: string): Promise<() => void>;
  /** Something may have given a slot back elsewhere (a notification): try again now. */
  wake(): void;
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
 * rather than stalling runs on a store hiccup.
 */
export function createClusterSlots(options: ClusterSlotsOptions): TaskSlots {
  const local = new Semaphore(options.limit);
  let wakeUp: (() => void) | undefined;
  /** one store waiter at a time: the head of the local line */
  let head = Promise.resolve();

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

  const take = async (taskRunId: string): Promise<{ owner: string; slot: number } | undefined> => {
    for (;;) {
      const owner = options.owner();
      if (owner !== undefined) {
        try {
          const slot = await options.store.acquire(owner, taskRunId, options.limit);
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
    async acquire(taskRunId = '') {
      const releaseLocal = await local.acquire();
      let held: { owner: string; slot: number } | undefined;
      try {
        const turn = head.then(() => take(taskRunId));
        head = turn.then(
          () => undefined,
          () => undefined,
        );
        held = await turn;
      } catch (error) {
        releaseLocal();
        throw error;
      }
      let released = false;
      return () => {
        if (released) return;
        released = true;
        releaseLocal();
        if (held === undefined) return;
        const { owner, slot } = held;
        options.store.release(owner, slot).then(
          () => options.released(),
          (error: unknown) => options.warn(`task slots: could not give slot ${slot} back: ${messageOf(error)}`),
        );
      };
    },
    wake() {
      wakeUp?.();
    },
  };
}
