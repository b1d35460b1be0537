import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { pbkdf2 } from 'node:crypto';
import { closeSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { nativeStarter } from '../../../test/support/ready-spawner.js';
import { findExecutable, nativeSpawnAddon } from './native-spawn.js';
import { signalGroup } from './process-group.js';
import { createProcessStarter } from './spawner.js';
import type { ProcessStarter, SpawnedProcess } from './spawner.js';

/**
 * What the native starter (posix_spawn, native/spawn.c) must do beyond the local executor's
 * suite (local-executor.test.ts runs it in every mode): what a component inherits of the
 * engine process, reaping among Node's own children, and the event loop while one runs.
 */

let dir: string;
let starter: ProcessStarter;
before(async () => {
  starter = nativeStarter();
  dir = await mkdtemp(join(tmpdir(), 'pilotage-native-'));
});
after(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));

const PATH = '/usr/local/bin:/usr/bin:/bin';
/** a password for pbkdf2 jobs that hold threads of libuv's pool */
const POOL_HOLD = 'hold';

/** Start `script` with sh; resolves with its stdout and how it ended. */
async function run(
  script: string,
  env: Record<string, string> = { PATH },
): Promise<{ out: string; code: number | null; signal: NodeJS.Signals | null; pid: number }> {
  const child: SpawnedProcess = starter.start('sh', ['-c', script], dir, env);
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.resume();
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('close', (c, s) => resolve([c, s])),
  );
  return { out, code, signal, pid: child.pid! };
}

test('a component gets no signal ignored or blocked, and no more of the engine’s fds than child_process gives', async () => {
  // Node ignores SIGPIPE and SIGXFSZ: a component must not inherit that (`yes | head` would never end)
  const { out, code } = await run(`grep -E '^Sig(Ign|Blk):' /proc/self/status`);
  assert.equal(code, 0, out);
  assert.match(out, /^SigBlk:\s+0+$/m);
  const ignored = BigInt(`0x${/^SigIgn:\s+([0-9a-f]+)$/m.exec(out)![1]!}`);
  // glibc's posix_spawn leaves its two internal signals (32, 33: below SIGRTMIN, which no program
  // may use for itself) ignored, as in every child of posix_spawn (Rust's Command, for one)
  const internal = (1n << 31n) | (1n << 32n);
  assert.equal(ignored & ~internal, 0n, `ignored signals: ${ignored.toString(16)}`);

  const listing = 'ls /proc/self/fd | sort -n | tr "\\n" " "';
  const native = (await run(listing)).out;
  const node = spawn('sh', ['-c', listing], {
    cwd: dir,
    env: { PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let direct = '';
  node.stdout.on('data', (chunk: Buffer) => (direct += chunk.toString()));
  await new Promise((resolve) => node.once('close', resolve));
  assert.equal(native, direct, 'the same open fds as a process child_process starts');
  assert.match(native, /^0 1 2 /);
});

test('it leads its own session and process group; this process is its parent', async () => {
  const { out } = await run(`echo "$$ $(ps -o pgid= -p $$) $(ps -o sid= -p $$) $PPID"`);
  const [pid, pgid, sid, ppid] = out.trim().split(/\s+/).map(Number);
  assert.equal(pgid, pid);
  assert.equal(sid, pid);
  assert.equal(ppid, process.pid);
});

test('exit codes and signals are reported as a ChildProcess reports them', async () => {
  assert.deepEqual((await run('exit 7')).code, 7);
  const killed = await run('kill -TERM $$');
  assert.equal(killed.code, null);
  assert.equal(killed.signal, 'SIGTERM');
});

test('many at once: each is reaped with its own exit code, beside ChildProcesses of child_process', async () => {
  const node = spawn('sh', ['-c', 'sleep 0.05; exit 3']);
  const nodeExit = new Promise((resolve) => node.once('exit', resolve));
  const codes = await Promise.all(Array.from({ length: 40 }, (_, i) => run(`exit ${i}`).then((r) => r.code)));
  assert.deepEqual(
    codes,
    Array.from({ length: 40 }, (_, i) => i),
  );
  assert.equal(await nodeExit, 3, 'libuv still reaps its own children');
});

test('a start alone does not wait for the thread pool; a burst goes on while the pool is busy', async () => {
  // every thread of libuv's pool busy for a while (UV_THREADPOOL_SIZE, 4 by default)
  const threads = Number(process.env['UV_THREADPOOL_SIZE'] ?? 4);
  let aThreadFreeAt = 0;
  const busy = Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<void>((resolve) =>
          pbkdf2(POOL_HOLD, 'salt', 400_000, 32, 'sha256', () => {
            aThreadFreeAt ||= performance.now();
            resolve();
          }),
        ),
    ),
  );
  const alone = await run('echo alone');
  assert.equal(alone.out, 'alone\n');
  assert.equal(aThreadFreeAt, 0, 'the lone start ran and ended while every thread of the pool was busy');
  // two at once: the second waits for the pool, and still starts and ends right
  const both = await Promise.all([run('exit 4'), run('exit 5')]);
  assert.deepEqual(
    both.map((r) => r.code),
    [4, 5],
  );
  await busy;
});

test('a bare name is found on the PATH of the component’s environment; a script without #! runs with sh', async () => {
  const bin = join(dir, 'bin');
  await writeFile(join(dir, 'plain'), 'echo plain "$1"\n');
  await chmod(join(dir, 'plain'), 0o755);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(bin);
  await writeFile(join(bin, 'hello'), '#!/bin/sh\necho "hello $1"\n');
  await chmod(join(bin, 'hello'), 0o755);
  assert.equal(findExecutable('hello', { PATH: `${bin}:${PATH}` }, dir), join(bin, 'hello'));
  assert.equal((findExecutable('hello', { PATH }, dir) as NodeJS.ErrnoException).code, 'ENOENT');
  assert.equal(findExecutable('./plain', {}, dir), join(dir, 'plain'));
  // execvp's search: a directory or a file it may not run is passed over; only such a file: EACCES
  const other = join(dir, 'other');
  await mkdir(join(other, 'hello'), { recursive: true });
  await writeFile(join(dir, 'hello'), 'echo not executable\n');
  assert.equal(findExecutable('hello', { PATH: `${other}:${dir}:${bin}` }, dir), join(bin, 'hello'));
  assert.equal((findExecutable('hello', { PATH: `${other}:${dir}` }, dir) as NodeJS.ErrnoException).code, 'EACCES');
  // a relative entry is taken from the working directory
  assert.equal(findExecutable('hello', { PATH: 'bin' }, dir), join(bin, 'hello'));

  // like LocalTask, a reader takes both streams: `close` waits for both to end
  const child = starter.start('hello', ['you'], dir, { PATH: `${bin}:${PATH}` });
  child.stderr?.resume();
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await new Promise((resolve) => child.once('close', resolve));
  assert.equal(out, 'hello you\n');

  const plain = starter.start('./plain', ['x'], dir, { PATH });
  plain.stderr?.resume();
  let plainOut = '';
  plain.stdout?.on('data', (chunk: Buffer) => (plainOut += chunk.toString()));
  await new Promise((resolve) => plain.once('close', resolve));
  assert.equal(plainOut, 'plain x\n');
});

test('a running process holds the event loop open, as a ChildProcess does', async () => {
  // a process whose only pending work is the component: it must wait for its end
  const source = `
    const { createNativeStarter } = await import(${JSON.stringify(new URL('./native-spawn.ts', import.meta.url).pathname)});
    const child = createNativeStarter().start('sh', ['-c', 'sleep 0.3; exit 5'], '/', { PATH: '/usr/bin:/bin' });
    child.stdout.resume();
    child.stderr.resume();
    child.once('close', (code) => console.log('closed', code));`;
  const node = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  node.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise((resolve) => node.once('exit', resolve));
  assert.equal(code, 0);
  assert.equal(out.trim(), 'closed 5');
});

test('the local executor’s default starter is the native one where the addon is built; native: false keeps the spawner', async () => {
  assert.equal(createProcessStarter().kind, 'native');
  const fallback = createProcessStarter({ native: false });
  assert.equal(fallback.kind, 'spawner');
  await fallback.close();
});

test('a NUL byte in a value is refused at once, as Node’s spawn refuses it, never cut short', () => {
  assert.throws(
    () => starter.start('sh', ['-c', 'echo'], dir, { PATH, CO_DATA: 'a\0b' }),
    (error: NodeJS.ErrnoException) => error.code === 'ERR_INVALID_ARG_VALUE' && /CO_DATA/.test(error.message),
  );
  assert.throws(() => starter.start('sh', ['-c', 'echo a\0b'], dir, { PATH }), /args\[1\]/);
});

test('signalGroup answers through the addon without throwing: true while the group lives, false once it is gone', async () => {
  // sleep itself leads the group: no grandchild left a zombie for kill(-pgid, 0) to find
  const child = starter.start('sleep', ['30'], dir, { PATH });
  child.stdout?.resume();
  child.stderr?.resume();
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const pgid = child.pid!;
  const closed = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('close', (_code, signal) => resolve(signal)),
  );
  assert.equal(signalGroup(pgid, 0), true);
  assert.equal(signalGroup(pgid, 'SIGTERM'), true);
  assert.equal(await closed, 'SIGTERM');
  assert.equal(signalGroup(pgid, 0), false);
  assert.equal(signalGroup(pgid, 'SIGKILL'), false);
  assert.throws(() => nativeSpawnAddon()!.signal(-pgid, 4096), TypeError);
});

test('waitable names a child that has ended and leaves it to reap', async () => {
  const addon = nativeSpawnAddon()!;
  const started = await new Promise<number[]>((resolve) =>
    addon.spawn('/bin/sh', ['sh', '-c', 'exit 3'], [], dir, resolve),
  );
  assert.equal(started.length, 3, `could not start: ${started[0]}`);
  const [pid, out, err] = started as [number, number, number];
  closeSync(out);
  closeSync(err);
  let named = 0;
  for (let tries = 0; named !== pid && tries < 200; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    named = addon.waitable();
  }
  assert.equal(named, pid);
  assert.equal(addon.waitable(), pid, 'still there: naming it did not reap it');
  assert.deepEqual(addon.reap(pid), [3, 0]);
  assert.equal(addon.waitable(), 0);
});

test('exec replaces the process in place: the same pid, the standard streams kept, no signal blocked; a failure returns its errno', async () => {
  const addonPath = new URL('../../../native/build/Release/pilotage_spawn.node', import.meta.url).pathname;
  // a Node process prints its pid and execs sh, which prints its own pid and its blocked signals
  // on the same stdout (read with builtins only: while sh starts a command, dash blocks every
  // signal for a moment); the failed exec before it must change nothing
  const script = `
    const addon = require(${JSON.stringify(addonPath)});
    const failed = addon.exec('/nonexistent/program', ['x'], []);
    process.stdout.write('pid ' + process.pid + ' failed ' + failed + '\\n', () => {
      addon.exec('/bin/sh', ['sh', '-c', 'echo pid $$; while read -r line; do case $line in SigBlk*) echo $line;; esac; done < /proc/$$/status; echo err >&2'], ['PATH=/usr/bin:/bin']);
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, err);
  const [first, second, blocked] = out.trim().split('\n');
  assert.equal(first, `pid ${child.pid} failed 2`, out); // ENOENT, and the process went on
  assert.equal(second, `pid ${child.pid}`, out); // sh is the same process, writing to the same pipe
  assert.match(blocked ?? '', /^SigBlk:\s+0+$/, out);
  assert.equal(err, 'err\n'); // stderr kept too
});

test('trim gives the C allocator’s free memory back to the system (glibc)', (t) => {
  const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
    ?.glibcVersionRuntime;
  if (glibc === undefined) return t.skip('malloc_trim is glibc’s: elsewhere trim() answers false');
  const addon = nativeSpawnAddon()!;
  // 2,000 buffers of 64 KiB: below glibc's mmap threshold, so they come from (and go back to) its arenas
  let buffers: Buffer[] | undefined = Array.from({ length: 2000 }, () => Buffer.allocUnsafeSlow(64 * 1024).fill(1));
  assert.equal(buffers.length, 2000);
  buffers = undefined;
  collectGarbage();
  collectGarbage();
  const mib = (): number => process.memoryUsage.rss() / 2 ** 20;
  const before = mib();
  assert.equal(addon.trim(), true);
  assert.ok(before - mib() > 50, `RSS went from ${before.toFixed(0)} to ${mib().toFixed(0)} MiB`);
});

/** A full collection, with `gc` taken from a fresh context (no `--expose-gc` global here). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  try {
    (runInNewContext('gc') as () => void)();
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
