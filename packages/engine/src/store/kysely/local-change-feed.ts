import { LIVE_CHANGES, type Change, type ChangeFeed } from '../types.js';

/**
 * The change feed of a store no other process shares (SQLite): what is published goes to this
 * process's subscribers, on a later turn of the event loop (as a notification would).
 */
export function createLocalChangeFeed(): ChangeFeed & { close(): Promise<void> } {
  const listeners = new Set<(change: Change) => void>();
  return {
    shared: false,
    publish(change) {
      if (listeners.size === 0) return;
      setImmediate(() => {
        for (const listener of [...listeners]) listener(change);
      });
    },
    subscribe(listener, options) {
      const heard = options?.controlOnly
        ? (change: Change): void => {
            if (!LIVE_CHANGES.has(change.kind)) listener(change);
          }
        : listener;
      listeners.add(heard);
      return () => listeners.delete(heard);
    },
    close() {
      listeners.clear();
      return Promise.resolve();
    },
  };
}
