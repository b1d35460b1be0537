/**
 * The triggers area: what makes each trigger start its runs once, across restarts and replicas
 * (webhook deliveries, cron ticks and incoming CDEvents already seen).
 */

/** A webhook delivery seen recently (redeliveries of it start no second run). */
export interface WebhookDeliveryRecord {
  readonly workflow: string;
  /** `github`, `gitlab`, `generic` */
  readonly provider: string;
  /** the sender's delivery id (`X-GitHub-Delivery`, `X-Gitlab-Event-UUID`, `X-Pilotage-Delivery`) */
  readonly deliveryId: string;
  readonly receivedAt: number;
  /** the run it started, once started */
  readonly runId: string | null;
}

/** Webhook deliveries claimed, so a redelivery starts no second run. */
export interface WebhookDeliveryStore {
  /**
   * Claim a delivery: true when no claim younger than `windowMs` exists for this workflow,
   * provider and delivery id (an older one is replaced). Atomic across processes and replicas.
   */
  claim(workflow: string, provider: string, deliveryId: string, at: number, windowMs: number): Promise<boolean>;
  /** Record the run a claimed delivery started. */
  setRun(workflow: string, provider: string, deliveryId: string, runId: string): Promise<void>;
  /** Give a claim up (the run could not start), so a redelivery may try again. */
  release(workflow: string, provider: string, deliveryId: string): Promise<void>;
  get(workflow: string, provider: string, deliveryId: string): Promise<WebhookDeliveryRecord | undefined>;
  /** Remove claims received before `before`. Returns how many. */
  purge(before: number): Promise<number>;
}

/** A cron tick claimed by one scheduler (so no tick starts two runs). */
export interface CronClaimRecord {
  readonly workflow: string;
  /** index of the cron trigger in the workflow's `triggers` */
  readonly triggerIndex: number;
  /** the scheduled time of the tick, epoch ms */
  readonly tickAt: number;
  /** the engine (config.engineId) that claimed it */
  readonly claimedBy: string;
  readonly claimedAt: number;
  readonly runId: string | null;
}

/** Cron ticks claimed, so a tick starts one run across restarts and replicas. */
export interface CronClaimStore {
  /** Insert-if-absent on (workflow, triggerIndex, tickAt): true only for the one claimer. */
  claim(claim: Omit<CronClaimRecord, 'runId'>): Promise<boolean>;
  /** Record the run a claimed tick started. */
  setRun(workflow: string, triggerIndex: number, tickAt: number, runId: string): Promise<void>;
  /** Claims of a workflow, oldest tick first. */
  list(workflow: string): Promise<CronClaimRecord[]>;
  /** Remove claims of ticks before `before`. Returns how many. */
  purge(before: number): Promise<number>;
}

/**
 * How long an incoming CDEvent may stay recorded but unprocessed before a new delivery of the
 * same event may claim it again, ms. Covers a server that died between recording an event and
 * starting its runs: the sender's retry then still starts them (at least once), while two
 * deliveries close together never both act.
 */
export const INBOX_RECLAIM_AFTER_MS = 60_000;

/** What the inbox remembers of one incoming CDEvent. */
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

/**
 * Deduplication of incoming CDEvents. Senders deliver at least once and keep `context.id` on
 * retries, so (`source`, `id`) identifies an event; the first arrival is acted on, the others are
 * acknowledged and dropped.
 */
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
  /**
   * Remove the record of a pair never marked processed, so that the sender's retry is handled
   * (the handler failed: handling is all-or-nothing). No-op for a processed or unknown pair.
   */
  forget(source: string, id: string): Promise<void>;
}
