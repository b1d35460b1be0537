/**
 * Deduplication of incoming CDEvents. Senders deliver at least once and keep `context.id` on
 * retries, so (`source`, `id`) identifies an event; the first arrival is acted on, the others are
 * acknowledged and dropped.
 */

/**
 * How long an arrival may stay recorded but unprocessed before a new delivery of the same event
 * may claim it again, ms. Covers a server that died between recording an event and starting its
 * runs: the sender's retry then still starts them (at least once), while two deliveries close
 * together never both act.
 */
export const INBOX_RECLAIM_AFTER_MS = 60_000;

/** What the inbox remembers of one incoming event. */
export interface InboxRecord {
  readonly source: string;
  readonly id: string;
  readonly type: string;
  /** when it was recorded (or last reclaimed), epoch ms */
  readonly receivedAt: number;
  /** when its runs were started, epoch ms; null while being handled (or if that was cut short) */
  readonly processedAt: number | null;
  /** the runs it started, in start order (empty when no trigger matched) */
  readonly runIds: readonly string[];
}

export interface InboxStore {
  /**
   * Record that the event (`source`, `id`) of `type` arrived at `at` (epoch ms). Resolves true
   * when the caller must act on it: the pair is new, or it was recorded at least
   * `INBOX_RECLAIM_AFTER_MS` before `at` and never marked processed (its handler died). Resolves
   * false for a duplicate. Atomic: two concurrent calls for the same pair never both resolve true.
   */
  recordIfNew(source: string, id: string, type: string, at: number): Promise<boolean>;
  /** Record that the event was handled at `at` and started `runIds`. No-op for an unknown pair. */
  markProcessed(source: string, id: string, runIds: readonly string[], at: number): Promise<void>;
  /** What is recorded for the pair, if anything. */
  get(source: string, id: string): Promise<InboxRecord | undefined>;
}

/** An in-memory `InboxStore` (tests and `pilotage run`): forgets everything on exit. */
export function memoryInbox(): InboxStore & { readonly size: () => number } {
  const seen = new Map<string, InboxRecord>();
  // JSON keeps the pair unambiguous whatever characters the source or id hold.
  const keyOf = (source: string, id: string): string => JSON.stringify([source, id]);
  return {
    recordIfNew(source, id, type, at) {
      const key = keyOf(source, id);
      const previous = seen.get(key);
      if (
        previous !== undefined &&
        (previous.processedAt !== null || at - previous.receivedAt < INBOX_RECLAIM_AFTER_MS)
      ) {
        return Promise.resolve(false);
      }
      seen.set(key, { source, id, type, receivedAt: at, processedAt: null, runIds: [] });
      return Promise.resolve(true);
    },
    markProcessed(source, id, runIds, at) {
      const key = keyOf(source, id);
      const previous = seen.get(key);
      if (previous !== undefined) seen.set(key, { ...previous, processedAt: at, runIds: [...runIds] });
      return Promise.resolve();
    },
    get(source, id) {
      return Promise.resolve(seen.get(keyOf(source, id)));
    },
    size: () => seen.size,
  };
}
