import type { Readable } from 'node:stream';

/**
 * What the local executor needs of a started process: what `LocalTask` reads of a ChildProcess
 * (`pid`, `stdout`, `stderr`, the `exit` and `close` events) and the `spawn`/`error` pair that
 * tells whether it started.
 */
export interface SpawnedProcess {
  readonly pid?: number | undefined;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  once(event: 'spawn', listener: () => void): unknown;
  once(event: 'error', listener: (error: NodeJS.ErrnoException) => void): unknown;
  once(event: 'exit' | 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'spawn', listener: () => void): unknown;
  off(event: 'error', listener: (error: NodeJS.ErrnoException) => void): unknown;
}

/** How the local executor starts a component's process. */
export interface ProcessStarter {
  /**
   * `native`: posix_spawn from this process (native-spawn.ts); `spawner`: through the spawner
   * process once it is ready, directly (child_process) before that or after it died
   */
  readonly kind: 'native' | 'spawner';
  /** Start `file` with `args` in its own process group, stdin closed, stdout and stderr piped. */
  start(file: string, args: readonly string[], cwd: string, env: Record<string, string>): SpawnedProcess;
  /** the spawner's pid while the next start goes through it (tests, diagnostics) */
  readonly spawnerPid: number | undefined;
  /** Stop the spawner process, if any, and wait for it to exit (the processes it started are not touched). */
  close(): Promise<void>;
}
