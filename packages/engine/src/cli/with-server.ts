import type { Command } from 'commander';
import { PilotageError } from '../domain/errors.js';
import { PlanError, type Issue } from '../domain/issue.js';
import { apiClient, type ApiClient, type ServerFlags } from './api-client.js';
import { EXIT, reportError } from './output.js';

/** Flags of every command that talks to a server. */
export interface RemoteFlags extends ServerFlags {
  json?: boolean;
}

/** Add `--server`, `--token` and `--json` to `command`; `scope` says which token it needs. */
export function serverOptions(command: Command, scope: 'read' | 'run' | 'admin'): Command {
  return command
    .option('--server <url>', 'the Pilotage server (PILOTAGE_SERVER)')
    .option('--token <token>', `an API token with the ${scope} scope (PILOTAGE_TOKEN)`)
    .option('--json', 'JSON output');
}

/**
 * Run `fn` with a client of the configured server. An error is reported (as JSON with `--json`)
 * and sets the exit code; a server's PLAN_INVALID answer is reported like a local PlanError
 * (`file:line:column: path: message` per issue, exit 2).
 */
export async function withServer(flags: RemoteFlags, fn: (client: ApiClient) => Promise<void>): Promise<void> {
  try {
    await fn(apiClient(flags));
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
