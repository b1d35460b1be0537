import type { Command } from 'commander';
import { ConfigError, PilotageError } from '../domain/errors.js';
import { PlanError, type Issue } from '../domain/issue.js';
import { createApiClient, type ApiClient } from './api-client.js';
import { EXIT, reportError } from './output.js';
import { callerTraceHeaders, configFrom } from './runtime-flags.js';

/** Flags of a command that talks to a server. */
export interface ServerFlags {
  server?: string;
  token?: string;
}

/** Flags of every command that talks to a server. */
export interface RemoteFlags extends ServerFlags {
  json?: boolean;
}

/** The help of `--server` unless a command says otherwise. */
const SERVER_HELP = 'the Pilotage server (PILOTAGE_SERVER)';

/**
 * Add `--server` and `--token` to `command`: `scope` says which token it needs, `serverHelp`
 * replaces the help of `--server` (for a command where the server is optional).
 */
export function connectionOptions(
  command: Command,
  scope: 'read' | 'run' | 'admin',
  serverHelp: string = SERVER_HELP,
): Command {
  return command
    .option('--server <url>', serverHelp)
    .option('--token <token>', `an API token with the ${scope} scope (PILOTAGE_TOKEN)`);
}

/** Add `--server`, `--token` and `--json` to `command` (one that only talks to a server). */
export function serverOptions(command: Command, scope: 'read' | 'run' | 'admin'): Command {
  return connectionOptions(command, scope).option('--json', 'JSON output');
}

/**
 * Whether a command that can work on either should use a server rather than the local store.
 * The one rule of every such command: `--server` means the server; else an explicit `--db` means
 * the local store; else a configured server (PILOTAGE_SERVER, or `server` in the config file)
 * means the server; else the local store.
 */
export function serverGiven(flags: ServerFlags & { readonly db?: string }): boolean {
  if (flags.server !== undefined && flags.server !== '') return true;
  if (flags.db !== undefined) return false;
  return configFrom({}).server !== undefined;
}

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
