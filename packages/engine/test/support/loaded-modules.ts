import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli, type CliOptions, type CliResult } from './cli.js';

const RECORDER = fileURLToPath(new URL('./record-imports.mjs', import.meta.url));

/**
 * Run the built CLI with `args` and list every module it loaded: file URLs or paths of ES and
 * CommonJS modules, and `node:` built-ins imported by ES modules.
 */
export async function cliModules(
  args: readonly string[],
  options: Omit<CliOptions, 'fromSource' | 'nodeArgs'> = {},
): Promise<CliResult & { readonly modules: readonly string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-imports-'));
  const file = join(dir, 'modules.txt');
  try {
    const result = await runCli(args, {
      ...options,
      nodeArgs: ['--import', RECORDER],
      env: { ...options.env, PILOTAGE_TEST_IMPORTS_FILE: file },
    });
    const text = await readFile(file, 'utf8').catch(() => '');
    return { ...result, modules: [...new Set(text.split('\n').filter((line) => line !== ''))] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
