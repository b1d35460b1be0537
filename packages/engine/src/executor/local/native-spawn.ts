import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { delimiter, isAbsolute, resolve } from 'node:path';
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { getSystemErrorName } from 'node:util';
import { packagePath } from '../../package-folder.js';
import type { ProcessStarter, SpawnedProcess } from './process-starter.js';

/** The addon native/spawn.c builds (see there): posix_spawn, waitpid and waitid, kill, execve. */
interface SpawnAddon {
  /**
   * Start it on libuv's thread pool; `done` gets [pid, stdoutFd, stderrFd], or [-errno] when it
   * could not start, on the main thread.
   */
  spawn(
    file: string,
    argv: readonly string[],
    envp: readonly string[],
    cwd: string,
    done: (started: number[]) => void,
  ): void;
  /** The same start on the calling thread: [pid, stdoutFd, stderrFd], or [-errno]. */
  spawnNow(file: string, argv: readonly string[], envp: readonly string[], cwd: string): number[];
  /** undefined while `pid` runs, else [exitCode (-1: a signal ended it), signalNumber (0: none)] */
  reap(pid: number): [number, number] | undefined;
  /**
   * The index of the first of `paths` that is a regular file this process may execute; else
   * -EACCES when one was a regular file, else -ENOENT.
   */
  firstProgram(paths: readonly string[]): number;
  /** the pid of a child of this process that has exited and is not reaped yet (left so), or 0 */
  waitable(): number;
  /** kill(2): 0, or the errno it failed with (a negative pid names a process group) */
  signal(pid: number, signalNumber: number): number;
  /** execve(2) with every signal unblocked: returns only when it failed, with the errno */
  exec(file: string, argv: readonly string[], envp: readonly string[]): number;
  /** malloc_trim(0) on glibc: true when the C allocator gave memory back (false elsewhere) */
  trim(): boolean;
  /**
   * Every thread of this process under SCHED_BATCH (threads made later and components started
   * from then on inherit it). 0, or the errno it failed with.
   */
  batch?(): number;
}

/** Where node-gyp leaves the addon, in the package. */
const ADDON_PATH = ['native', 'build', 'Release', 'pilotage_spawn.node'];

let addon: SpawnAddon | undefined | null = null;

/**
 * The native spawn addon when it was built (scripts/build-native.mjs: node-gyp and a C compiler,
 * on Linux with glibc ≥ 2.29 or macOS), else undefined: the local executor then starts processes
 * through its spawner process (spawner.ts).
 */
export function nativeSpawnAddon(): SpawnAddon | undefined {
  if (addon === null) {
    try {
      addon = createRequire(import.meta.url)(packagePath(...ADDON_PATH)) as SpawnAddon;
    } catch {
      addon = undefined;
    }
  }
  return addon;
}

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, number]) => [number, name]));

/** Processes started here that have not been reaped, by pid. */
const live = new Map<number, NativeProcess>();
/** Starts asked for whose process is not in `live` yet (on the thread pool, or answered next tick). */
let starting = 0;
/** Holds the event loop open while `live` is not empty, as a running ChildProcess does. */
let keepAlive: NodeJS.Timeout | undefined;
let listening = false;

/**
 * SIGCHLD (one signal may stand for several exits): reap every child of ours that has ended. The
 * kernel names each ended child (`waitable`), so an exit costs a call or two, not one per child
 * still running (a 1,000-action stage: ~500 each). A child of Node's own (a ChildProcess, which
 * libuv reaps) in front of ours hides the others from that question: then each of ours is asked.
 */
function reapEnded(): void {
  const spawn = nativeSpawnAddon();
  if (spawn === undefined) return;
  for (;;) {
    const pid = spawn.waitable();
    if (pid <= 0) break;
    const child = live.get(pid);
    if (child === undefined || !reapOne(spawn, pid, child)) {
      for (const [each, ours] of live) reapOne(spawn, each, ours);
      break;
    }
  }
  if (live.size === 0 && keepAlive !== undefined) {
    clearInterval(keepAlive);
    keepAlive = undefined;
  }
}

/** Reap `pid` if it has ended, telling `child`; whether it had. */
function reapOne(spawn: SpawnAddon, pid: number, child: NativeProcess): boolean {
  const ended = spawn.reap(pid);
  if (ended === undefined) return false;
  live.delete(pid);
  const [code, signal] = ended;
  child.exited(
    code < 0 ? null : code,
    signal === 0 ? null : ((SIGNAL_NAMES.get(signal) ?? null) as NodeJS.Signals | null),
  );
  return true;
}

function watch(pid: number, child: NativeProcess): void {
  if (!listening) {
    // libuv reaps only the pids of its own ChildProcesses (waitpid per pid), never these
    process.on('SIGCHLD', reapEnded);
    listening = true;
  }
  live.set(pid, child);
  keepAlive ??= setInterval(() => undefined, 2 ** 31 - 1);
  // it may have ended before the listener was in place
  setImmediate(reapEnded);
}

/**
 * `file` as execvp would find it, on the PATH of the child's environment `env` (as Node's spawn
 * does), relative to `cwd`; an Error with the errno code execvp would report when none can run
 * (EACCES when a candidate was a file it may not execute, else ENOENT). The files are looked at
 * by the addon (`firstProgram`).
 */
export function findExecutable(
  file: string,
  env: Readonly<Record<string, string>>,
  cwd: string,
): string | NodeJS.ErrnoException {
  if (file.includes('/')) return isAbsolute(file) ? file : resolve(cwd, file);
  const candidates = (env['PATH'] ?? '/usr/bin:/bin')
    .split(delimiter)
    .map((dir) => (dir.startsWith('/') ? `${dir}/${file}` : resolve(cwd, dir === '' ? '.' : dir, file)));
  // only the native starter asks: the addon is there
  const found = nativeSpawnAddon()!.firstProgram(candidates);
  if (found >= 0) return candidates[found]!;
  return spawnError(file, found === -osConstants.errno.EACCES ? 'EACCES' : 'ENOENT');
}

function spawnError(file: string, code: string, errno?: number): NodeJS.ErrnoException {
  return Object.assign(new Error(`spawn ${file} ${code}`), {
    code,
    errno: -(errno ?? osConstants.errno[code as keyof typeof osConstants.errno] ?? 0),
    syscall: `spawn ${file}`,
    path: file,
  });
}

/**
 * A process started with the addon, seen as the local executor sees a ChildProcess: `spawn` or
 * `error` in a later turn (the start runs on libuv's thread pool, or at once when it is alone,
 * answered at the next tick), `exit` once it is reaped, `close` once it has exited and both
 * pipes were read to their end (or destroyed). Its output
 * streams exist at once, as a ChildProcess's do, and are fed from the pipes once it runs.
 */
class NativeProcess extends EventEmitter implements SpawnedProcess {
  pid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #open = 2;
  /** the pipe behind each output stream, once it runs */
  readonly #sockets = new Map<Readable, Socket>();

  constructor(file: string, args: readonly string[], cwd: string, env: Record<string, string>) {
    super();
    const envp = environmentBlock({ file, cwd }, args, env);
    this.stdout = this.#stream();
    this.stderr = this.#stream();
    const path = findExecutable(file, env, cwd);
    if (path instanceof Error) {
      this.#failed(path);
      return;
    }
    const addon = nativeSpawnAddon()!;
    const argv = [file, ...args];
    const started = (result: number[], retried: boolean): void => {
      // an executable file that is no program (a script without #!): run by the shell, as
      // execvp (and so Node's spawn) does
      if (result[0] === -osConstants.errno.ENOEXEC && !retried) {
        addon.spawn('/bin/sh', ['sh', path, ...args], envp, cwd, (again) => started(again, true));
      } else if (result.length !== 3) {
        this.#failed(spawnError(file, getSystemErrorName(result[0]!), -result[0]!));
      } else {
        this.#running(result as [number, number, number]);
      }
    };
    starting += 1;
    const answered = (result: number[]): void => {
      starting -= 1;
      started(result, false);
    };
    // Alone (nothing of ours running or starting: a sequential stage's next step), on this
    // thread, as Node's own spawn does: the pool's two thread hand-offs cost more than the wait
    // for exec (~0.2 ms). Under a burst, on the pool, so that the engine goes on meanwhile.
    if (starting === 1 && live.size === 0) {
      let result: number[];
      try {
        result = addon.spawnNow(path, argv, envp, cwd);
      } catch (error) {
        starting -= 1;
        throw error;
      }
      process.nextTick(answered, result);
    } else {
      addon.spawn(path, argv, envp, cwd, answered);
    }
  }

  /** Reaped: it exited with `code`, or `signal` ended it. */
  exited(code: number | null, signal: NodeJS.Signals | null): void {
    this.#exit = { code, signal };
    this.emit('exit', code, signal);
    this.#closeIfDone();
  }

  #running([pid, out, err]: [number, number, number]): void {
    this.pid = pid;
    this.#feed(out, this.stdout);
    this.#feed(err, this.stderr);
    watch(pid, this);
    this.emit('spawn');
  }

  #failed(error: NodeJS.ErrnoException): void {
    this.stdout.push(null);
    this.stderr.push(null);
    process.nextTick(() => this.emit('error', error));
  }

  /** A stream the pipe's bytes are pushed into; destroying it stops reading the pipe. */
  #stream(): Readable {
    const sockets = this.#sockets;
    const stream: Readable = new Readable({
      read() {},
      destroy(error, callback) {
        sockets.get(stream)?.destroy();
        callback(error);
      },
    });
    stream.once('close', () => {
      this.#open -= 1;
      this.#closeIfDone();
    });
    return stream;
  }

  #feed(fd: number, stream: Readable): void {
    const socket = new Socket({ fd, readable: true, writable: false });
    this.#sockets.set(stream, socket);
    if (stream.destroyed) {
      socket.destroy();
      return;
    }
    socket.on('data', (chunk: Buffer) => stream.push(chunk));
    socket.once('end', () => stream.push(null));
    // a pipe that breaks ends its stream as its end would
    socket.once('error', () => stream.push(null));
  }

  #closeIfDone(): void {
    if (this.#exit !== undefined && this.#open === 0) this.emit('close', this.#exit.code, this.#exit.signal);
  }
}

/**
 * The child's environment as "NAME=value" strings. C strings end at a NUL byte: one in any string
 * given is refused with Node's own ERR_INVALID_ARG_VALUE (a TypeError), as Node's spawn refuses
 * it, rather than cut short. One pass over the environment (this runs at every start).
 */
function environmentBlock(
  named: Readonly<Record<string, string>>,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): string[] {
  for (const what of Object.keys(named)) refuseNul(what, named[what]!);
  for (let i = 0; i < args.length; i++) refuseNul(`args[${i}]`, args[i]!);
  const block: string[] = [];
  for (const name of Object.keys(env)) {
    const value = env[name]!;
    const entry = `${name}=${value}`;
    if (entry.includes('\0')) {
      const shown = name.replaceAll('\0', '\\0');
      refuseNul(`env key ${shown}`, name);
      refuseNul(`env['${shown}']`, value);
    }
    block.push(entry);
  }
  return block;
}

function refuseNul(what: string, text: string): void {
  if (!text.includes('\0')) return;
  throw Object.assign(new TypeError(`The argument '${what}' must be a string without null bytes`), {
    code: 'ERR_INVALID_ARG_VALUE',
  });
}

/**
 * Starts every process with the addon, from this process: no spawner process, and a start that
 * costs the same whatever the engine's memory (measured ~0.13 ms, against ~0.8 ms for a fork of
 * a 60 MB Node process). The processes' parent is this process.
 */
export function createNativeStarter(): ProcessStarter {
  if (nativeSpawnAddon() === undefined) throw new Error('the native spawn addon is not built');
  return {
    kind: 'native',
    spawnerPid: undefined,
    start: (file, args, cwd, env) => new NativeProcess(file, args, cwd, env),
    close: () => Promise.resolve(),
  };
}

/**
 * Run this process under SCHED_BATCH (Linux): a thread that wakes up does not preempt the one
 * running, so processes sharing a few cores switch less often. Its components inherit it. True
 * when it did; false without the addon (or one built before it could); the error when the system
 * refused.
 */
export function useBatchScheduling(): boolean | Error {
  const batch = nativeSpawnAddon()?.batch;
  if (batch === undefined) return false;
  const failure = batch();
  if (failure === 0) return true;
  return new Error(`SCHED_BATCH refused: ${getSystemErrorName(-failure)}`);
}
