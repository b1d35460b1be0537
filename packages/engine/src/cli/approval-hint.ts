import { resolve } from 'node:path';
import { parseStoreUrl, redactStoreUrl } from '../store/parse-store-url.js';

/** Where the run a CLI follows is stored: a local store (`--db`) or a server. */
export type DecideWhere = { readonly db: string } | { readonly server: string };

/** The commands that decide approval stage `stage` of run `runId` from another shell. */
export interface DecideCommands {
  readonly approve: string;
  readonly reject: string;
}

/**
 * The exact `pilotage approve|reject RUN STAGE …` commands another shell runs to decide the
 * stage: with `--db` and the store's absolute path (a PostgreSQL URL with its password left out),
 * or `--server URL` (the token is the user's own: never printed). Undefined for an in-memory
 * store: no other process can reach it.
 */
export function decideCommands(runId: string, stage: string, where: DecideWhere): DecideCommands | undefined {
  let target: string;
  if ('server' in where) {
    target = `--server ${shellWord(where.server)}`;
  } else {
    const location = parseStoreUrl(where.db);
    if (location.kind === 'postgres') target = `--db ${shellWord(redactStoreUrl(location.url))}`;
    else if (location.path === ':memory:') return undefined;
    else target = `--db ${shellWord(resolve(location.path))}`;
  }
  const tail = `${shellWord(runId)} ${shellWord(stage)} ${target}`;
  return { approve: `pilotage approve ${tail}`, reject: `pilotage reject ${tail}` };
}

/** The line that says how to decide a waiting stage: the commands, or why only this terminal can. */
export function decideHint(runId: string, stage: string, where: DecideWhere): string {
  const commands = decideCommands(runId, stage, where);
  if (commands === undefined) {
    return 'waiting for approval (in-memory store: no other process can decide; answer here, or wait for the timeout)';
  }
  return `waiting for approval: ${commands.approve} (or: ${commands.reject})`;
}

/** `text` as one POSIX shell word: bare when safe, else single-quoted. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}
