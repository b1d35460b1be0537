import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SESSION = fileURLToPath(new URL('./pty-session.py', import.meta.url));

/** One step of a terminal session: type `send`, then wait for `expect` (a regex source) to appear. */
export interface PtyStep {
  readonly send?: string;
  readonly expect?: string;
  /** seconds (default 20) */
  readonly timeout?: number;
}

/** What a program wrote to its terminal, raw (escape sequences included), and how it ended. */
export interface PtyResult {
  readonly output: Buffer;
  readonly code: number;
  /** per step: whether its `expect` appeared in time */
  readonly matched: readonly boolean[];
}

/**
 * Run `argv` in a real pseudo-terminal (Python's `pty`, so the program sees isatty() true and a
 * window size) with exactly `env`, play `steps`, and wait for it to exit (killed after
 * `timeoutSeconds`, default 60).
 */
export function runInPty(
  argv: readonly string[],
  options: { env: Record<string, string>; steps?: readonly PtyStep[]; cols?: number; timeoutSeconds?: number },
): Promise<PtyResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [SESSION], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', () => {
      try {
        const parsed = JSON.parse(out) as { output: string; code: number; matched: boolean[] };
        resolve({ output: Buffer.from(parsed.output, 'base64'), code: parsed.code, matched: parsed.matched });
      } catch (error) {
        reject(new Error(`pty session failed: ${out}`, { cause: error }));
      }
    });
    child.stdin.end(
      JSON.stringify({
        argv,
        env: options.env,
        steps: options.steps ?? [],
        cols: options.cols ?? 100,
        timeout: options.timeoutSeconds ?? 60,
      }),
    );
  });
}
