import { routes } from '@pilotage/api';
import { readSourceFile } from '../../plan-files/load.js';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConflictError, PilotageError, ValidationError } from '../../domain/errors.js';
import { asRecord, asString } from '../../plan/json-access.js';
import { parseSource } from '../../plan/source-doc.js';
import type { ApiClient } from '../api-client.js';
import { EXIT, print, reportError } from '../output.js';
import { asPlanError, serverOptions, withServer, type RemoteFlags } from '../with-server.js';

const FILE_NAMES = ['component.yaml', 'component.yml', 'component.json'];

/**
 * The component files a path names: a file as is; a folder holding a component file that one;
 * any other folder, the component file of each sub-folder (`components/`), by name.
 */
export function componentFiles(path: string): string[] {
  if (!existsSync(path)) throw new ValidationError(`${path}: no such file or folder`);
  if (!statSync(path).isDirectory()) return [path];
  const own = FILE_NAMES.map((n) => join(path, n)).find((f) => existsSync(f));
  if (own !== undefined) return [own];
  const found = readdirSync(path, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => FILE_NAMES.map((n) => join(path, entry.name, n)).find((f) => existsSync(f)))
    .filter((f): f is string => f !== undefined)
    .sort();
  if (found.length === 0) throw new ValidationError(`${path}: no component.yaml in it or in its sub-folders`);
  return found;
}

/** What registering one file did. */
export interface Outcome {
  readonly file: string;
  readonly name: string;
  readonly version: string;
  /** `unchanged`: that version was already registered with exactly this text */
  readonly status: 'registered' | 'unchanged';
}

/**
 * Register one component file on the server; a version already registered with exactly this
 * text is `unchanged`, with another text a ConflictError.
 */
export async function registerFile(client: ApiClient, file: string): Promise<Outcome> {
  const source = readSourceFile(file);
  const shown = relative(process.cwd(), resolve(file)) || file;
  try {
    const answer = await client.call(routes.registerComponent, {
      body: { source, file: shown, dir: resolve(dirname(file)) },
    });
    return { file: shown, name: answer.name, version: answer.version, status: 'registered' };
  } catch (error) {
    if (!(error instanceof PilotageError && error.code === 'CONFLICT')) throw error;
    // registering a folder again is fine when each version's text is the one already stored
    const doc = asRecord(parseSource(source, shown).value);
    const name = asString(doc?.name) ?? '';
    const version = asString(doc?.version) ?? '';
    const stored = await client.call(routes.getComponent, { params: { name, version } });
    if (stored.source !== source) {
      throw new ConflictError(
        `${shown}: ${name}@${version} is already registered with a different text; versions are immutable, bump the version`,
      );
    }
    return { file: shown, name, version, status: 'unchanged' };
  }
}

/**
 * `pilotage component register FILE|DIR…`: register component versions on a server (admin
 * token). Each file is sent with its path (named in issues) and its absolute folder (where a
 * server on this machine runs `./` commands with the local executor). A version already
 * registered with the same text is reported `unchanged`; every file is tried, the exit code is
 * the worst outcome.
 */
export function registerComponentRegister(component: Command): void {
  serverOptions(
    component
      .command('register')
      .description('register component versions (a component.yaml, its folder, or a folder of them) on a server')
      .argument('<paths...>', 'component files or folders'),
    'admin',
  ).action((paths: string[], flags: RemoteFlags) =>
    withServer(flags, async (client) => {
      const files = paths.flatMap(componentFiles);
      let worst: number = EXIT.ok;
      for (const file of files) {
        try {
          const outcome = await registerFile(client, file);
          print(
            flags.json
              ? outcome
              : `${outcome.status === 'registered' ? 'registered' : 'unchanged '} ${outcome.name}@${outcome.version}  (${outcome.file})`,
          );
        } catch (error) {
          worst = Math.max(worst, reportError(asPlanError(error), flags.json === true));
        }
      }
      process.exitCode = worst;
    }),
  );
}
