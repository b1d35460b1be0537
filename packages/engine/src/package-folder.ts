import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = '@pilotage/engine';

let found: string | undefined;

/**
 * The engine package's folder, where its `native/`, `schemas/` and `templates/` are: found by
 * walking up from this module to the package.json named `@pilotage/engine`, since the module sits
 * at another depth in `src/` (the tests), `dist/` and `dist/bundle/` (the CLI, one bundle:
 * scripts/bundle-cli.mjs). `relative` is a path inside it.
 */
export function packagePath(...relative: readonly string[]): string {
  found ??= packageFolder(dirname(fileURLToPath(import.meta.url)));
  return join(found, ...relative);
}

function packageFolder(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (nameOf(join(dir, 'package.json')) === PACKAGE_NAME) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json of ${PACKAGE_NAME} above ${start}`);
  }
}

function nameOf(file: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name as string | undefined;
  } catch {
    return undefined;
  }
}
