/**
 * Errors are classes with stable codes. One table maps them to HTTP statuses (`httpStatusOf`).
 * A component's failure is not an exception at all: it is a task-run state. These are the
 * engine's, the user's and the operator's errors.
 */
export type ErrorCode =
  | 'VALIDATION'
  | 'PLAN_INVALID'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'EXECUTOR'
  | 'STORE'
  | 'CONFIG'
  | 'UNAVAILABLE'
  | 'LEASE_LOST'
  | 'WORKSPACE_EXPIRED'
  | 'INTERNAL';

const HTTP_STATUS: Record<ErrorCode, number> = {
  VALIDATION: 400,
  PLAN_INVALID: 422,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  EXECUTOR: 502,
  STORE: 503,
  CONFIG: 500,
  UNAVAILABLE: 503,
  LEASE_LOST: 409,
  WORKSPACE_EXPIRED: 409,
  INTERNAL: 500,
};

/** Base of all Pilotage errors. `retryable` says whether trying again may help. */
export class PilotageError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: unknown;
  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retryable?: boolean; details?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }
}

/** Bad input: a malformed body, a value out of range. */
export class ValidationError extends PilotageError {
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super('VALIDATION', message, options);
  }
}

/** Something named does not exist. */
export class NotFoundError extends PilotageError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/** The request does not fit the current state (out of sequence, already ended). */
export class ConflictError extends PilotageError {
  constructor(message: string, details?: unknown) {
    super('CONFLICT', message, { details });
  }
}

/** The executor could not start, watch or stop a component. Ends a task run as `errored`. */
export class ExecutorError extends PilotageError {
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super('EXECUTOR', message, options);
  }
}

/** The configuration is wrong: names the key and what was expected. */
export class ConfigError extends PilotageError {
  constructor(message: string) {
    super('CONFIG', message);
  }
}

/** No valid credentials: a missing, unknown, expired or revoked API token, or a bad signature. */
export class UnauthorizedError extends PilotageError {
  constructor(message: string) {
    super('UNAUTHORIZED', message);
  }
}

/** Valid credentials without the scope the request needs. */
export class ForbiddenError extends PilotageError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}

/** The server cannot take the request now (shutting down, store unreachable); retry later. */
export class UnavailableError extends PilotageError {
  constructor(message: string) {
    super('UNAVAILABLE', message, { retryable: true });
  }
}

/**
 * A rerun would reuse the results of actions whose files are gone: the earlier run's workspace
 * expired (or was not kept). Asking for an empty workspace, or a rerun from the start, goes on.
 */
export class WorkspaceExpiredError extends PilotageError {
  constructor(message: string) {
    super('WORKSPACE_EXPIRED', message);
  }
}

/**
 * A replica wrote to a run it no longer holds: its lease expired and another replica took the
 * run over, or it let go of the run. Nothing was written; the replica must stop acting on the
 * run (the new holder carries it on). Never retryable by the same replica.
 */
export class LeaseLostError extends PilotageError {
  /** the run concerned, when one write was refused */
  readonly runId: string | undefined;
  constructor(message: string, runId?: string) {
    super('LEASE_LOST', message);
    this.runId = runId;
  }

  /** A write to run `runId`, which `holder` holds now (or nobody). */
  static heldBy(runId: string, holder: string | null): LeaseLostError {
    const now = holder === null ? 'nobody holds it now' : `replica ${holder} holds it now`;
    return new LeaseLostError(`run ${runId} is no longer held by this replica (${now})`, runId);
  }
}

/** Whether `code` is one of the ErrorCode values (for codes read from outside, such as an API answer). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(HTTP_STATUS, code);
}

/** HTTP status for an error code (unknown errors are 500). */
export function httpStatusOf(error: unknown): number {
  return error instanceof PilotageError ? HTTP_STATUS[error.code] : 500;
}

/** The message of anything thrown (an Error's message, else its string form). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
