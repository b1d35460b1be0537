import { formatIssue, PlanError } from '../domain/issue.js';
import { PilotageError } from '../domain/errors.js';

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** Print an error the way a user can act on it; returns the exit code. */
export function reportError(error: unknown, json: boolean): number {
  if (json) {
    const body =
      error instanceof PlanError
        ? { error: { code: error.code, message: 'invalid file', issues: error.issues } }
        : error instanceof PilotageError
          ? { error: { code: error.code, message: error.message } }
          : { error: { code: 'INTERNAL', message: String(error) } };
    process.stdout.write(`${jsonLine(body)}\n`);
  } else if (error instanceof PlanError) {
    for (const issue of error.issues) process.stderr.write(`${formatIssue(issue)}\n`);
    process.stderr.write(`${error.issues.length} problem${error.issues.length === 1 ? '' : 's'} found\n`);
  } else if (error instanceof PilotageError) {
    process.stderr.write(`error: ${error.message}\n`);
  } else {
    process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  return error instanceof PlanError ||
    (error instanceof PilotageError && ['VALIDATION', 'CONFIG', 'NOT_FOUND'].includes(error.code))
    ? EXIT.usage
    : EXIT.failed;
}

/** Keys never printed: the hash of a task run's callback token is the store's business only. */
const HIDDEN_KEYS = new Set(['tokenHash']);

/** `value` as one line of JSON, without HIDDEN_KEYS at any depth. Every JSON the CLI prints goes through it. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value, (key, item: unknown) => (HIDDEN_KEYS.has(key) ? undefined : item));
}

/** Print one line on stdout: a string as is, anything else as one line of JSON (`jsonLine`). */
export function print(value: unknown): void {
  process.stdout.write(`${typeof value === 'string' ? value : jsonLine(value)}\n`);
}
