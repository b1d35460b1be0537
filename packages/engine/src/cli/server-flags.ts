import type { Command } from 'commander';
import { reportError } from './output.js';
import { configFrom } from './runtime-flags.js';

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

/**
 * `serverGiven(flags)` for a command's action: undefined once a bad setting it met (such as an
 * unreadable config file) is reported (as JSON with `--json`) and the exit code set.
 */
export function serverChosen(
  flags: ServerFlags & { readonly db?: string; readonly json?: boolean },
): boolean | undefined {
  try {
    return serverGiven(flags);
  } catch (error) {
    process.exitCode = reportError(error, flags.json === true);
    return undefined;
  }
}
