import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_MODULES, runCli, type CliOptions, type CliResult } from './cli.js';

const RECORDER = fileURLToPath(new URL('./record-imports.mjs', import.meta.url));

/**
 * Run the built CLI with `args` and list every module it loaded: file URLs or paths of ES and
 * CommonJS modules, and `node:` built-ins imported by ES modules. By default the command as tsc
 * wrote it (one file a module, so each shows by name); `{ bundled: true }`: as it ships.
 */
export async function cliModules(
  args: readonly string[],
  options: Omit<CliOptions, 'fromSource' | 'nodeArgs'> & { readonly bundled?: boolean } = {},
): Promise<CliResult & { readonly modules: readonly string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-imports-'));
  const file = join(dir, 'modules.txt');
  try {
    const { bundled, ...rest } = options;
    const result = await runCli(args, {
      ...(bundled === true ? {} : { script: CLI_MODULES }),
      ...rest,
      nodeArgs: ['--import', RECORDER],
      env: { ...options.env, PILOTAGE_TEST_IMPORTS_FILE: file },
    });
    const text = await readFile(file, 'utf8').catch(() => '');
    return { ...result, modules: [...new Set(text.split('\n').filter((line) => line !== ''))] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
