/**
 * Per task run caps on what its component may make the store keep: TASK_STATUS reports (how
 * many, and their bytes) and log lines (their bytes). Past a cap the store drops what comes, writes
 * ONE notice line into the task run's log and counts what it dropped (`TaskRunRecord.dropped`).
 * The TASK_RESULT output, the task run's latest message and output and its `[COUT]` outputs are
 * never dropped: only the history rows are capped. Once a cap dropped something, every later
 * report (line) of that kind is dropped too, so what is stored is one unbroken beginning.
 */
export interface TaskRunLimits {
  /** most TASK_STATUS reports stored per task run */
  readonly statuses: number;
  /** most bytes of TASK_STATUS reports stored per task run (message and output JSON, UTF-8) */
  readonly statusBytes: number;
  /** most bytes of log lines stored per task run (each line's UTF-8 bytes and its newline) */
  readonly logBytes: number;
}

/**
 * The defaults, in line with what CI services keep per job (GitLab Runner cuts a job log at
 * 4 MiB by default, GitLab.com at 100 MB): a 64 MiB log, 10,000 progress reports and 16 MiB of
 * them per task run. 0 in the configuration: no cap.
 */
export const TASK_RUN_LIMIT_DEFAULTS: TaskRunLimits = Object.freeze({
  statuses: 10_000,
  statusBytes: 16 * 1024 ** 2,
  logBytes: 64 * 1024 ** 2,
});

/** Which cap a notice is about. */
export type TaskRunLimitKind = 'statuses' | 'logs';

/** Start of every notice line the store writes into a task run's log (the UI and CLI mark it). */
export const LIMIT_NOTICE_PREFIX = 'pilotage: ';

/** The one log line recorded when a task run first goes past a cap of `kind`. */
export function limitNotice(kind: TaskRunLimitKind, limits: TaskRunLimits): string {
  if (kind === 'logs') {
    return `${LIMIT_NOTICE_PREFIX}this task run's log reached its cap of ${sizeText(limits.logBytes)} (PILOTAGE_TASK_MAX_LOG_BYTES); later lines are not stored, only counted ([COUT] outputs still count)`;
  }
  return `${LIMIT_NOTICE_PREFIX}TASK_STATUS reports reached their cap of ${limits.statuses} reports or ${sizeText(limits.statusBytes)} per task run (PILOTAGE_TASK_MAX_STATUSES, PILOTAGE_TASK_MAX_STATUS_BYTES); later reports are not stored, only counted (the latest message and output still show; TASK_RESULT is always kept)`;
}

/** `64 MiB`, `1.5 KiB`, `300 B`. */
export function sizeText(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

/** The bytes a log line counts for: its UTF-8 bytes and its newline. */
export function logLineBytes(line: string): number {
  return Buffer.byteLength(line, 'utf8') + 1;
}
