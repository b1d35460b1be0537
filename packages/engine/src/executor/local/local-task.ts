import type { SpawnedProcess } from './spawner.js';
import type { Readable } from 'node:stream';
import type { ExitInfo, LogLine, TaskHandle } from '../executor.js';
import { LineSplitter } from '../shared/line-splitter.js';
import { groupAlive, signalGroup, waitGroupGone } from './process-group.js';

/**
 * After the main process exited and its group was killed, how long the output pipes may stay
 * open before we stop reading them, ms. Only a process that left the group (setsid) can still
 * hold them then; without this, `wait()` would hang on it.
 */
export const STDIO_DRAIN_MS = 2000;

/** How long `kill`/`destroy` wait for a SIGKILLed group to disappear, ms. */
const REAP_TIMEOUT_MS = 5000;

/** What `LocalTask` needs besides the spawned child. */
export interface LocalTaskOptions {
  readonly onLog: (line: LogLine) => void;
  readonly killGraceMs: number;
  readonly endpointUrl?: string;
  readonly facts: Readonly<Record<string, string>>;
}

/**
 * The handle of one component process started by the local executor. The child leads its own
 * process group (spawned `detached`); signals go to the whole group, so whatever it forked goes
 * with it. When the main process exits, any member of its group still running is SIGKILLed:
 * nothing a component started outlives it.
 */
export class LocalTask implements TaskHandle {
  readonly ref: string;
  readonly facts: Readonly<Record<string, string>>;
  readonly endpointUrl?: string;
  readonly #pgid: number;
  readonly #killGraceMs: number;
  readonly #exited: Promise<ExitInfo>;
  #closed = false;
  #killReason: string | undefined;
  #termSent = false;
  #hardKillAt: number | undefined;
  #hardKillTimer: NodeJS.Timeout | undefined;
  #drainTimer: NodeJS.Timeout | undefined;
  #groupGone = false;
  #reaping: Promise<void> | undefined;

  /** `child` must have been spawned detached with piped stdout and stderr, and have a pid. */
  constructor(child: SpawnedProcess, options: LocalTaskOptions) {
    const pid = child.pid;
    if (pid === undefined) throw new TypeError('LocalTask needs a spawned child with a pid');
    this.#pgid = pid;
    this.ref = String(pid);
    this.facts = options.facts;
    if (options.endpointUrl !== undefined) this.endpointUrl = options.endpointUrl;
    this.#killGraceMs = options.killGraceMs;

    const deliver = deliverer(options.onLog);
    const out = readLines(child.stdout, 'stdout', deliver);
    const err = readLines(child.stderr, 'stderr', deliver);

    child.once('exit', () => {
      // The main process is gone: its group must go too, and only a process that escaped the
      // group can keep the pipes open beyond this point.
      signalGroup(this.#pgid, 'SIGKILL');
      this.#drainTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, STDIO_DRAIN_MS);
    });

    this.#exited = new Promise<ExitInfo>((resolve) => {
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        out.flush();
        err.flush();
        this.#closed = true;
        clearTimeout(this.#hardKillTimer);
        clearTimeout(this.#drainTimer);
        const exit: { exitCode: number | null; signal?: string; reason?: string } = { exitCode: code };
        if (signal !== null) exit.signal = signal;
        if (this.#killReason !== undefined) exit.reason = this.#killReason;
        resolve(exit);
        void this.#reap();
      });
    });
  }

  /** Resolves once, when the process has exited and its output was read to the end. */
  wait(): Promise<ExitInfo> {
    return this.#exited;
  }

  /**
   * SIGTERM to the whole group, SIGKILL to the group `graceMs` later (default: the executor's
   * `killGraceMs`); resolves when the process has exited and no member of its group is left.
   * The first reason becomes `ExitInfo.reason` if the process was still running. Repeatable; a
   * later call with a shorter grace brings the SIGKILL forward.
   */
  async kill(reason: string, graceMs: number = this.#killGraceMs): Promise<void> {
    if (!this.#closed) {
      this.#killReason ??= reason;
      if (!this.#termSent) {
        this.#termSent = true;
        signalGroup(this.#pgid, 'SIGTERM');
      }
      this.#scheduleHardKill(Math.max(0, graceMs));
    }
    await this.#exited;
    await this.#reap();
  }

  /** Make sure nothing of the group is left (SIGKILL), then wait for it. For `destroy`. */
  async destroy(): Promise<void> {
    if (!this.#closed) {
      this.#killReason ??= 'destroyed';
      this.#scheduleHardKill(0);
    }
    await this.#exited;
    await this.#reap();
  }

  #scheduleHardKill(graceMs: number): void {
    const at = Date.now() + graceMs;
    if (this.#hardKillAt !== undefined && this.#hardKillAt <= at) return;
    clearTimeout(this.#hardKillTimer);
    this.#hardKillAt = at;
    this.#hardKillTimer = setTimeout(() => signalGroup(this.#pgid, 'SIGKILL'), graceMs);
  }

  /** SIGKILL whatever is left of the group and wait until none is alive (bounded). */
  #reap(): Promise<void> {
    if (this.#groupGone) return Promise.resolve();
    this.#reaping ??= (async () => {
      if (await groupAlive(this.#pgid)) {
        signalGroup(this.#pgid, 'SIGKILL');
        await waitGroupGone(this.#pgid, REAP_TIMEOUT_MS);
      }
      // Once seen empty, never signal this group id again: the pid may be reused.
      this.#groupGone = !(await groupAlive(this.#pgid));
      this.#reaping = undefined;
    })();
    return this.#reaping;
  }
}

/** Calls onLog, never letting its exception break the stream reading. */
function deliverer(onLog: (line: LogLine) => void): (line: LogLine) => void {
  let warned = false;
  return (line) => {
    try {
      onLog(line);
    } catch (error) {
      if (!warned) process.emitWarning(`the onLog callback of the local executor threw: ${String(error)}`);
      warned = true;
    }
  };
}

function readLines(
  stream: Readable | null,
  name: LogLine['stream'],
  deliver: (line: LogLine) => void,
): { flush(): void } {
  const splitter = new LineSplitter();
  const send = (lines: string[]): void => {
    const ts = Date.now();
    for (const line of lines) deliver({ stream: name, line, ts });
  };
  stream?.on('data', (chunk: Buffer) => send(splitter.push(chunk)));
  // A destroyed stream may emit 'error'; the lines read so far are still delivered at close.
  stream?.on('error', () => undefined);
  let flushed = false;
  return {
    flush() {
      if (flushed) return;
      flushed = true;
      send(splitter.end());
    },
  };
}
