import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/**
 * The built CLI as it ships, one bundle (scripts/bundle-cli.mjs; `npm test` builds first), and
 * its sources (run through tsx).
 */
export const CLI_BUILT = join(ROOT, 'packages/engine/dist/bundle/pilotage.js');
/** The same built command as tsc wrote it, one file a module: what test/startup.test.ts inspects. */
export const CLI_MODULES = join(ROOT, 'packages/engine/dist/cli/main.js');
export const CLI_SOURCE = join(ROOT, 'packages/engine/src/cli/main.ts');

/** How a CLI process ended and what it wrote. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of `runCli`. */
export interface CliOptions {
  /** variables over the caller's environment, from which every PILOTAGE_* variable is removed */
  readonly env?: Record<string, string>;
  /** default the repository root */
  readonly cwd?: string;
  /** run the sources through tsx instead of the build (default false) */
  readonly fromSource?: boolean;
  /** called on each stdout chunk with all stdout so far, and a way to signal the process */
  readonly onStdout?: (text: string, kill: (signal: NodeJS.Signals) => void) => void;
  /** SIGKILL after this long, ms (default 120 000) so a hung command fails its test, not the suite */
  readonly timeoutMs?: number;
  /** written to the command's stdin, which is then closed (default: no stdin at all) */
  readonly input?: string;
  /** run this script instead of the CLI's build or sources (a bin shim) */
  readonly script?: string;
  /** options of `node` itself, before the script (`--import`, `--cpu-prof`) */
  readonly nodeArgs?: readonly string[];
}

/** An XDG_CONFIG_HOME with no config file in it: a developer's own config never reaches a test. */
const NO_CONFIG_HOME = join(ROOT, 'packages/engine/test/fixtures/no-config-home');

/**
 * Run `pilotage ARGS…` as a child process; resolves when it exits. The caller's own PILOTAGE_*
 * settings, config file and locale never leak in: only `env` sets them (the locale is C.UTF-8).
 */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  // a UTF-8 locale whatever the runner's, so the glyphs tests look for are the Unicode ones
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('PILOTAGE_') && k !== 'LC_ALL' && k !== 'LC_CTYPE'),
  );
  const argv = [
    ...(options.nodeArgs ?? []),
    ...(options.script !== undefined
      ? [options.script, ...args]
      : options.fromSource
        ? ['--import', 'tsx', CLI_SOURCE, ...args]
        : [CLI_BUILT, ...args]),
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, {
      cwd: options.cwd ?? ROOT,
      env: {
        ...base,
        LANG: 'C.UTF-8',
        XDG_CONFIG_HOME: NO_CONFIG_HOME,
        // a failed run keeps its workspace (24h by default) in the shared data folder: not in tests
        PILOTAGE_WORKSPACE_RETENTION: '0',
        ...options.env,
      },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    child.stdin?.end(options.input);
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(stdout, (signal) => child.kill(signal));
    });
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
