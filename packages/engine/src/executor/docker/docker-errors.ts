import { ExecutorError } from '../../domain/errors.js';

/** The HTTP status of a failed Docker Engine API call (dockerode puts it on the error), if any. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The runtime's own explanation of a failed call, without dockerode's `(HTTP code …)` prefix. */
export function reasonOf(error: unknown): string {
  const json = (error as { json?: unknown } | null)?.json;
  if (json !== null && typeof json === 'object') {
    const message = (json as { message?: unknown }).message;
    if (typeof message === 'string' && message !== '') return message;
  }
  if (typeof json === 'string' && json.trim() !== '') return json.trim();
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^\(HTTP code \d+\)\s*[^-]*-\s*/, '').trim() || message;
}

/** True for failures to reach the runtime at all (socket missing, refused, reset, timed out). */
export function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    ['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EACCES'].includes(code)
  );
}

/**
 * An ExecutorError for a failed runtime call: `message`, then the runtime's reason; retryable
 * when the runtime could not be reached (trying again later may work).
 */
export function runtimeError(message: string, error: unknown): ExecutorError {
  if (error instanceof ExecutorError) return error;
  const unreachable = isUnreachable(error);
  const reason = unreachable
    ? `the container runtime is unreachable (${reasonOf(error)}); is the Docker/Podman API service running?`
    : reasonOf(error);
  return new ExecutorError(`${message}: ${reason}`, { cause: error, retryable: unreachable });
}
