import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { finished, Readable } from 'node:stream';
import { createNativeStarter, nativeSpawnAddon } from './native-spawn.js';
import type { ProcessStarter, SpawnedProcess } from './process-starter.js';
import { FRAME, FRAME_HEADER_BYTES, spawnerSource, type SpawnerRequest } from './spawner-program.js';

export type { ProcessStarter, SpawnedProcess } from './process-starter.js';

/**
 * While the spawner starts (~40 ms of Node start-up), processes start directly as long as fewer
 * than this many of them are still running: one action after another never waits for the spawner
 * (a 100-step sequential run waited ~30 ms at its fourth step), a parallel stage's burst does.
 */
const DIRECT_WHILE_STARTING = 2;

/** Options of `createProcessStarter`. */
export interface ProcessStarterOptions {
  /**
   * start the spawner process once this many processes were started directly (default 1: from
   * the second on, so that a one-action `pilotage run` never pays for it); 0: at once, while the
   * caller prepares (a `pilotage run` of several actions: ready by its first one); Infinity: never
   */
  readonly spawnerAfter?: number;
  /** told once if the spawner process dies; later starts are direct */
  readonly onSpawnerLost?: (reason: string) => void;
  /**
   * start every process with the native addon when it was built (native-spawn.ts; default
   * true); the other options then do not apply
   */
  readonly native?: boolean;
}

/**
 * Starts processes with the native addon when it was built (native-spawn.ts: posix_spawn, whose
 * cost does not grow with this process's memory, and no process in between). Without it:
 * directly (`child_process.spawn` in this process) or through a small spawner
 * process (spawner-program.ts). Why: `spawn` forks this process, and the fork's cost grows with
 * the parent's memory: measured here, 0.8 ms from a 50 MB Node process, 5 ms from 92 MB, 8 ms from
 * 270 MB, all of it on the engine's main thread. The spawner stays small, forks in its own
 * process (on another core when there is one), and streams each process's output and exit back.
 *
 * The spawner starts in the background once `spawnerAfter` processes were started; until it
 * answers, the next DIRECT_WHILE_STARTING processes are started directly and later ones wait for
 * it (a parallel stage's burst); if it dies, processes are started directly for good. A process the spawner was
 * carrying when it died is SIGKILLed with its group and ends with a line on its stderr saying so:
 * its exit could no longer be watched.
 */
export function createProcessStarter(options: ProcessStarterOptions = {}): ProcessStarter {
  if (options.native !== false && nativeSpawnAddon() !== undefined) return createNativeStarter();
  const spawnerAfter = options.spawnerAfter ?? 1;
  let direct = 0;
  /** processes started directly that are still running */
  let directLive = 0;
  let spawner: SpawnerClient | undefined;
  let lost = false;
  const askForSpawner = (): void => {
    if (lost) return;
    spawner = new SpawnerClient((reason) => {
      lost = true;
      spawner = undefined;
      options.onSpawnerLost?.(reason);
    });
  };
  if (spawnerAfter <= 0) askForSpawner();
  return {
    kind: 'spawner',
    get spawnerPid() {
      return spawner?.ready === true ? spawner.pid : undefined;
    },
    start(file, args, cwd, env) {
      if (spawner?.ready === true) return spawner.start(file, args, cwd, env);
      // A burst (a parallel stage) while the spawner is still starting waits for it, rather than
      // forking every process from this large one; its requests queue in the spawner's stdin.
      if (spawner !== undefined && directLive >= DIRECT_WHILE_STARTING) {
        return spawner.start(file, args, cwd, env);
      }
      if (spawner === undefined && direct >= spawnerAfter) askForSpawner();
      direct++;
      const child = spawn(file, [...args], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      directLive++;
      let ended = false;
      const end = (): void => {
        if (!ended) directLive--;
        ended = true;
      };
      child.once('close', end);
      child.once('error', end);
      return child;
    },
    async close() {
      const stopping = spawner;
      spawner = undefined;
      await stopping?.close();
    },
  };
}

/** The engine's end of one spawner process. */
class SpawnerClient {
  ready = false;
  readonly #child: ChildProcess;
  readonly #live = new Map<number, RemoteProcess>();
  #nextId = 1;
  #buffered = Buffer.alloc(0);
  #closing = false;

  constructor(onLost: (reason: string) => void) {
    // its own session (no terminal signals), and nothing of the engine's environment
    this.#child = spawn(process.execPath, ['-e', spawnerSource()], {
      detached: true,
      env: {},
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let spawned = false;
    let gone = false;
    const lose = (reason: string): void => {
      this.ready = false;
      if (this.#closing || gone) return;
      gone = true;
      for (const remote of this.#live.values()) remote.lost(reason);
      this.#live.clear();
      onLost(reason);
    };
    // a spawner that could not start loses the starts queued for it (as one that died would)
    this.#child.on('error', (error) => {
      if (!spawned) lose(`the local executor's spawner process could not start (${error.message})`);
    });
    this.#child.stdin?.on('error', () => undefined);
    this.#child.once('spawn', () => {
      spawned = true;
      this.ready = !this.#closing;
      this.#holdLoop();
    });
    this.#child.stdout?.on('data', (chunk: Buffer) => this.#receive(chunk));
    this.#child.once('exit', (code, signal) => {
      lose(`the local executor's spawner process ended (${signal ?? `exit code ${code}`})`);
    });
    this.#holdLoop();
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  start(file: string, args: readonly string[], cwd: string, env: Record<string, string>): SpawnedProcess {
    const id = this.#nextId++;
    const remote = new RemoteProcess(() => this.#send({ op: 'drain', id }));
    this.#live.set(id, remote);
    this.#send({ op: 'spawn', id, file, args, cwd, env });
    this.#holdLoop();
    return remote;
  }

  /** Ends its stdin (it then exits) and resolves once it has exited. */
  async close(): Promise<void> {
    this.#closing = true;
    this.ready = false;
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.ref();
    this.#child.stdin?.end();
    await exited;
  }

  #send(request: SpawnerRequest): void {
    this.#child.stdin?.write(`${JSON.stringify(request)}\n`);
  }

  /**
   * Keep this process's event loop alive while a process started through the spawner runs, as a
   * directly spawned child would; let it end otherwise (an idle spawner must not hold it).
   */
  #holdLoop(): void {
    const hold = this.#live.size > 0 && !this.#closing;
    const handles = [this.#child.stdout, this.#child.stdin] as unknown as ({ ref(): void; unref(): void } | null)[];
    if (hold) this.#child.ref();
    else this.#child.unref();
    for (const handle of handles) {
      if (hold) handle?.ref();
      else handle?.unref();
    }
  }

  #receive(chunk: Buffer): void {
    let data = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    while (data.length >= FRAME_HEADER_BYTES) {
      const length = data.readUInt32BE(5);
      if (data.length < FRAME_HEADER_BYTES + length) break;
      const type = data.readUInt8(0);
      const id = data.readUInt32BE(1);
      const payload = data.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length);
      data = data.subarray(FRAME_HEADER_BYTES + length);
      const remote = this.#live.get(id);
      if (remote === undefined) continue;
      if (type === FRAME.failed || type === FRAME.close) {
        this.#live.delete(id);
        this.#holdLoop();
      }
      remote.frame(type, payload);
    }
    this.#buffered = Buffer.from(data);
  }
}

/** A process started by the spawner, seen as the local executor sees a ChildProcess. */
class RemoteProcess extends EventEmitter {
  pid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;

  constructor(drain: () => void) {
    super();
    let drained = false;
    const stream = (): Readable =>
      new Readable({
        read() {},
        destroy(error, callback) {
          if (!drained) drain();
          drained = true;
          callback(error);
        },
      });
    this.stdout = stream();
    this.stderr = stream();
  }

  frame(type: number, payload: Buffer): void {
    switch (type) {
      case FRAME.spawned:
        this.pid = (JSON.parse(payload.toString()) as { pid: number }).pid;
        this.emit('spawn');
        return;
      case FRAME.failed: {
        const { code, message } = JSON.parse(payload.toString()) as { code?: string; message: string };
        this.emit('error', Object.assign(new Error(message), code === undefined ? {} : { code }));
        return;
      }
      case FRAME.stdout:
        this.stdout.push(Buffer.from(payload));
        return;
      case FRAME.stderr:
        this.stderr.push(Buffer.from(payload));
        return;
      case FRAME.exit:
      case FRAME.close: {
        const { code, signal } = JSON.parse(payload.toString()) as { code: number | null; signal: string | null };
        // Not at once: `spawned`, output and `exit` can arrive in one chunk, and whoever awaited
        // the spawn attaches its exit listener in a promise continuation. A ChildProcess, too,
        // emits `exit` in a later turn of the event loop than `spawn`.
        setImmediate(() => {
          if (type === FRAME.exit) this.emit('exit', code, signal);
          else this.#close(code, signal);
        });
        return;
      }
    }
  }

  /** The spawner died: the process can no longer be watched. Kill its group and end it. */
  lost(reason: string): void {
    if (this.pid === undefined) {
      this.emit('error', new Error(reason));
      return;
    }
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    this.stderr.push(`[pilotage] ${reason} while this process ran; it was killed\n`);
    this.emit('exit', null, 'SIGKILL');
    this.#close(null, 'SIGKILL');
  }

  /**
   * End both streams, and emit `close` once their last bytes were read, as a ChildProcess does
   * (the reader must be consuming them).
   */
  #close(code: number | null, signal: string | null): void {
    let open = 2;
    for (const stream of [this.stdout, this.stderr]) {
      if (!stream.destroyed) stream.push(null);
      finished(stream, () => {
        if (--open === 0) this.emit('close', code, signal);
      });
    }
  }
}
