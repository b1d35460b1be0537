import type * as ChildProcesses from 'node:child_process';

/** Frames the spawner sends: a type byte, the request's id (u32), the payload's length (u32). */
export const FRAME = Object.freeze({
  /** `{pid}`: the process is running */
  spawned: 1,
  /** `{code, message}`: it could not be started (the id is done) */
  failed: 2,
  /** bytes it wrote to stdout */
  stdout: 3,
  /** bytes it wrote to stderr */
  stderr: 4,
  /** `{code, signal}`: it exited (its pipes may stay open a while) */
  exit: 5,
  /** `{code, signal}`: it exited and both pipes are closed (the id is done) */
  close: 6,
});

/** Bytes before a frame's payload. */
export const FRAME_HEADER_BYTES = 9;

/** A request to the spawner: one JSON line on its stdin. */
export type SpawnerRequest =
  | {
      readonly op: 'spawn';
      readonly id: number;
      readonly file: string;
      readonly args: readonly string[];
      readonly cwd: string;
      readonly env: Readonly<Record<string, string>>;
    }
  /** stop reading the process's pipes (its group was killed and something kept them open) */
  | { readonly op: 'drain'; readonly id: number };

/**
 * The spawner's whole program, run as `node -e "(SOURCE)(require('node:child_process'), process)"`
 * (see `spawnerSource`), so that it needs no file of its own: it must use nothing but its
 * arguments. It reads requests (JSON lines) on stdin and spawns each process as the local executor
 * would (detached: its own process group; stdin closed; stdout and stderr piped), and reports
 * everything about it as FRAMEs on stdout (their numbers written out: it cannot read FRAME). It
 * exits when its stdin ends: the engine closed it or died. The processes it started are left
 * alone then, as the engine's own would be (orphans, found by their mark).
 */
export function spawnerMain(childProcesses: typeof ChildProcesses, proc: NodeJS.Process): void {
  const children = new Map<number, ChildProcesses.ChildProcess>();
  const send = (type: number, id: number, payload: Buffer): void => {
    const header = Buffer.allocUnsafe(9);
    header.writeUInt8(type, 0);
    header.writeUInt32BE(id, 1);
    header.writeUInt32BE(payload.length, 5);
    proc.stdout.write(Buffer.concat([header, payload]));
  };
  const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
  const spawnOne = (request: Extract<SpawnerRequest, { op: 'spawn' }>): void => {
    const { id } = request;
    let child: ChildProcesses.ChildProcess;
    try {
      child = childProcesses.spawn(request.file, [...request.args], {
        cwd: request.cwd,
        env: request.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      // Some failures (E2BIG) are thrown, not emitted: answer them; the spawner serves the other tasks on.
      const { code, message } = error as NodeJS.ErrnoException;
      send(2, id, json({ code, message }));
      return;
    }
    children.set(id, child);
    let started = false;
    child.once('spawn', () => {
      started = true;
      send(1, id, json({ pid: child.pid }));
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (started) return;
      children.delete(id);
      send(2, id, json({ code: error.code, message: error.message }));
    });
    child.stdout?.on('data', (chunk: Buffer) => send(3, id, chunk));
    child.stderr?.on('data', (chunk: Buffer) => send(4, id, chunk));
    child.stdout?.on('error', () => undefined);
    child.stderr?.on('error', () => undefined);
    child.once('exit', (code, signal) => send(5, id, json({ code, signal })));
    child.once('close', (code, signal) => {
      if (!started) return;
      children.delete(id);
      send(6, id, json({ code, signal }));
    });
  };
  let pending = '';
  proc.stdin.setEncoding('utf8');
  proc.stdin.on('data', (text: string) => {
    pending += text;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const request = JSON.parse(pending.slice(0, newline)) as SpawnerRequest;
      pending = pending.slice(newline + 1);
      if (request.op === 'spawn') spawnOne(request);
      else {
        children.get(request.id)?.stdout?.destroy();
        children.get(request.id)?.stderr?.destroy();
      }
    }
  });
  proc.stdin.on('end', () => proc.exit(0));
  proc.stdout.on('error', () => proc.exit(0));
}

/**
 * The `-e` argument that runs `spawnerMain` in a new Node process. `__name` is what a transpiler
 * that keeps function names (tsx, when tests run the sources) wraps functions in.
 */
export function spawnerSource(): string {
  return `const __name = (f) => f; (${spawnerMain.toString()})(require('node:child_process'), process)`;
}
