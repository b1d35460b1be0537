import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let folder: string | undefined;

/**
 * A path inside the engine package's folder, where its `native/`, `schemas/` and `templates/` are.
 * Node finds the folder, through the package's own name (a package may import itself by the
 * name its `exports` give), since this module sits at another depth in `src/` (the tests),
 * `dist/` and `dist/bundle/` (the CLI, one bundle: scripts/bundle-cli.mjs).
 */
export function packagePath(...relative: readonly string[]): string {
  folder ??= dirname(createRequire(import.meta.url).resolve('@pilotage/engine/package.json'));
  return join(folder, ...relative);
}
