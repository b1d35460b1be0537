/**
 * Deduplication of incoming CDEvents. Senders deliver at least once and keep `context.id` on
 * retries, so (`source`, `id`) identifies an event; the first arrival is acted on, the others are
 * acknowledged and dropped.
 */
export interface InboxStore {
  /**
   * Record that the event (`source`, `id`) of `type` arrived at `at` (epoch ms). Resolves true
   * when it is new (the caller acts on it), false when it was seen before. Must be atomic: two
   * concurrent calls for the same pair never both resolve true.
   */
  recordIfNew(source: string, id: string, type: string, at: number): Promise<boolean>;
}

/** An in-memory `InboxStore` (tests and `pilotage run`): forgets everything on exit. */
export function memoryInbox(): InboxStore & { readonly size: () => number } {
  const seen = new Map<string, { type: string; at: number }>();
  return {
    recordIfNew(source, id, type, at) {
      // JSON keeps the pair unambiguous whatever characters the source or id hold.
      const key = JSON.stringify([source, id]);
      if (seen.has(key)) return Promise.resolve(false);
      seen.set(key, { type, at });
      return Promise.resolve(true);
    },
    size: () => seen.size,
  };
}
