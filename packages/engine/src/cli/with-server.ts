import { ConfigError, PilotageError } from '../domain/errors.js';
import { PlanError, type Issue } from '../domain/issue.js';
import { createApiClient, type ApiClient } from './api-client.js';
import { EXIT, reportError } from './output.js';
import { callerTraceHeaders, configFrom } from './runtime-flags.js';
import type { RemoteFlags, ServerFlags } from './server-flags.js';

// the flags, for the commands that only talk to a server (a command that may run locally imports
// them from server-flags.js, so as not to load the API client)
export { connectionOptions, serverGiven, serverOptions, type RemoteFlags, type ServerFlags } from './server-flags.js';

/** The client for `--server`/PILOTAGE_SERVER with `--token`/PILOTAGE_TOKEN; a ConfigError when no server is given. */
export function apiClient(flags: ServerFlags): ApiClient {
  const config = configFrom({ server: flags.server, token: flags.token });
  if (config.server === undefined) {
    throw new ConfigError('no server given: pass --server URL or set PILOTAGE_SERVER');
  }
  return createApiClient(config.server, config.token, callerTraceHeaders());
}

/**
 * Run `fn` with a client of the configured server. An error is reported (as JSON with `--json`)
 * and sets the exit code; a server's PLAN_INVALID answer is reported like a local PlanError
 * (`file:line:column: path: message` per issue, exit 2). `fn` may return an exit code of its own.
 */
export async function withServer(flags: RemoteFlags, fn: (client: ApiClient) => Promise<number | void>): Promise<void> {
  try {
    const code = await fn(apiClient(flags));
    if (code !== undefined) process.exitCode = code;
    process.exitCode ??= EXIT.ok;
  } catch (error) {
    process.exitCode = reportError(asPlanError(error), flags.json === true);
  }
}

/** A PLAN_INVALID answer whose details are issues, as a PlanError; anything else as is. */
export function asPlanError(error: unknown): unknown {
  if (error instanceof PilotageError && error.code === 'PLAN_INVALID' && !(error instanceof PlanError)) {
    const issues = Array.isArray(error.details) ? (error.details as Issue[]) : [];
    if (issues.length > 0 && issues.every((i) => typeof i.file === 'string' && typeof i.line === 'number')) {
      return new PlanError(issues);
    }
  }
  return error;
}

/** `encodeURIComponent` of each segment, joined: a safe API path. */
export function apiPath(...segments: (string | number)[]): string {
  return segments.map((s) => encodeURIComponent(String(s))).join('/');
}
