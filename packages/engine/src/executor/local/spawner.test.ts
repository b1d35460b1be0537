import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { readySpawner } from '../../../test/support/ready-spawner.js';
import { createProcessStarter, type SpawnedProcess } from './spawner.js';
import { findOrphanGroups } from './orphans.js';
import { signalGroup } from './process-group.js';
import { formatMark, PROCESS_MARK_ENV } from './process-mark.js';

const PATH = process.env['PATH'] ?? '/usr/bin:/bin';

/** Everything a started process reports, once it closed. */
async function outcome(child: SpawnedProcess) {
  const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  child.stdout?.on('data', (chunk: Buffer) => chunks.stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => chunks.stderr.push(chunk));
  const exited = new Promise<unknown[]>((resolve) => child.once('exit', (...args) => resolve(args)));
  const closed = await new Promise<unknown[]>((resolve) => child.once('close', (...args) => resolve(args)));
  return {
    exit: await exited,
    close: closed,
    stdout: Buffer.concat(chunks.stdout),
    stderr: Buffer.concat(chunks.stderr),
  };
}

function parentOf(pid: number): { ppid: number; pgid: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { ppid: Number(fields[1]), pgid: Number(fields[2]) };
}

test('a process started through the spawner: its own group, its env and cwd, all its output, its exit', async () => {
  const starter = await readySpawner();
  const spawnerPid = starter.spawnerPid!;
  try {
    // 1 MiB on stdout in many writes, then the pid, ppid and pgid, a line on stderr, exit 3
    const script =
      'head -c 1048576 /dev/zero | tr "\\0" a; echo; echo "$$ $PPID $(cut -d " " -f 5 /proc/$$/stat) $PWD $ONLY"; ' +
      'echo oops >&2; exit 3';
    const child = starter.start('sh', ['-c', script], tmpdir(), { PATH, ONLY: 'given' });
    const started = new Promise<void>((resolve) => child.once('spawn', resolve));
    const result = await outcome(child);
    await started;
    const lines = result.stdout.toString().split('\n');
    assert.equal(lines[0], 'a'.repeat(1048576));
    const [pid, ppid, pgid, cwd, only] = lines[1]!.split(' ');
    assert.equal(Number(pid), child.pid);
    assert.equal(Number(ppid), spawnerPid, 'the spawner, not this process, is its parent');
    assert.equal(Number(pgid), child.pid, 'it leads its own process group');
    assert.equal(cwd, tmpdir());
    assert.equal(only, 'given');
    assert.equal(result.stderr.toString(), 'oops\n');
    assert.deepEqual(result.exit, [3, null]);
    assert.deepEqual(result.close, [3, null]);

    const killed = starter.start('sh', ['-c', 'kill -TERM $$'], tmpdir(), { PATH });
    assert.deepEqual((await outcome(killed)).close, [null, 'SIGTERM']);
  } finally {
    await starter.close();
  }
});

test('a burst of starts while the spawner is starting: two start directly, the rest wait for it', async () => {
  const starter = createProcessStarter({ spawnerAfter: 1, native: false });
  try {
    // all in one turn: the spawner is asked for by the second start and cannot have answered yet
    const children = Array.from({ length: 8 }, () => starter.start('sh', ['-c', 'echo $PPID'], tmpdir(), { PATH }));
    const parents = await Promise.all(children.map(async (child) => (await outcome(child)).stdout.toString().trim()));
    const spawnerPid = starter.spawnerPid;
    assert.notEqual(spawnerPid, undefined);
    const direct = parents.filter((ppid) => Number(ppid) === process.pid).length;
    assert.equal(direct, 2, 'the first and the one that asked for the spawner, both still running');
    assert.deepEqual(
      parents.slice(2).map(Number),
      Array.from({ length: 6 }, () => spawnerPid),
    );
  } finally {
    await starter.close();
  }
});

test('spawnerAfter 0: the spawner starts at once, and the first process goes through it once it answers', async () => {
  const starter = createProcessStarter({ spawnerAfter: 0, native: false });
  try {
    for (let i = 0; starter.spawnerPid === undefined; i++) {
      assert.ok(i < 500, 'the spawner answered within 10 s without any start');
      await delay(20);
    }
    const parent = Number((await outcome(starter.start('sh', ['-c', 'echo $PPID'], tmpdir(), { PATH }))).stdout);
    assert.equal(parent, starter.spawnerPid);
  } finally {
    await starter.close();
  }
});

test('one start after another while the spawner is starting: each starts directly, none waits for it', async () => {
  const starter = createProcessStarter({ spawnerAfter: 1, native: false });
  try {
    let whileStarting = 0;
    for (let i = 0; i < 20; i++) {
      const ready = starter.spawnerPid !== undefined;
      const parent = Number((await outcome(starter.start('sh', ['-c', 'echo $PPID'], tmpdir(), { PATH }))).stdout);
      if (ready) continue;
      whileStarting += 1;
      assert.equal(parent, process.pid, `start ${i}, while the spawner was not ready, was direct`);
    }
    assert.ok(whileStarting >= 2, 'some starts happened while the spawner started');
  } finally {
    await starter.close();
  }
});

test('exit is told after spawn, in a later turn: a listener attached once the spawn was awaited still hears it', async () => {
  const starter = await readySpawner();
  try {
    // these exit at once: spawned, output and exit often reach the engine in one chunk
    for (let i = 0; i < 50; i++) {
      const child = starter.start('sh', ['-c', 'echo x'], tmpdir(), { PATH });
      child.stdout?.resume();
      await new Promise<void>((resolve) => child.once('spawn', () => resolve()));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const late = delay(5000, 'no exit event');
      assert.equal(await Promise.race([exited.then(() => 'exit'), late]), 'exit', `process ${i}`);
    }
  } finally {
    await starter.close();
  }
});

test('a command that cannot start is an error with its code, through the spawner too', async () => {
  const starter = await readySpawner();
  try {
    const child = starter.start('/no/such/command', [], tmpdir(), { PATH });
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
    assert.equal(error.code, 'ENOENT');
    assert.equal(child.pid, undefined);
  } finally {
    await starter.close();
  }
});

test('if the spawner dies, the processes it carried are killed and end saying why; later ones start directly', async () => {
  const starter = await readySpawner();
  const spawnerPid = starter.spawnerPid!;
  try {
    const child = starter.start('sh', ['-c', 'echo up; exec sleep 60'], tmpdir(), { PATH });
    await new Promise<void>((resolve) => child.once('spawn', () => resolve()));
    const result = outcome(child);
    // its first line has come through before the spawner dies
    await new Promise((resolve) => child.stdout?.once('data', resolve));
    process.kill(spawnerPid, 'SIGKILL');
    const { close, stderr, stdout } = await result;
    assert.deepEqual(close, [null, 'SIGKILL']);
    assert.equal(stdout.toString(), 'up\n');
    assert.match(stderr.toString(), /spawner process ended \(SIGKILL\) while this process ran; it was killed/);
    for (let i = 0; i < 100 && existsAlive(child.pid!); i++) await delay(20);
    assert.equal(existsAlive(child.pid!), false, 'its process group was killed');

    assert.equal(starter.spawnerPid, undefined);
    const next = starter.start('sh', ['-c', 'echo $PPID'], tmpdir(), { PATH });
    const nextResult = await outcome(next);
    assert.equal(Number(nextResult.stdout.toString()), process.pid, 'started directly');
  } finally {
    await starter.close();
  }
});

test('close() ends the spawner and waits for it; the processes it started run on', async () => {
  const starter = await readySpawner();
  const spawnerPid = starter.spawnerPid!;
  const child = starter.start('sh', ['-c', 'sleep 0.3; echo done'], tmpdir(), { PATH });
  await new Promise<void>((resolve) => child.once('spawn', () => resolve()));
  const pid = child.pid!;
  await starter.close();
  assert.equal(existsAlive(spawnerPid), false);
  assert.equal(existsAlive(pid), true, 'closing the spawner does not touch what it started');
  assert.equal(parentOf(pid).pgid, pid);
  for (let i = 0; i < 100 && existsAlive(pid); i++) await delay(20);
  assert.equal(existsAlive(pid), false);
});

test('the engine dying ends the spawner; what it started runs on with its mark, found as an orphan group', async () => {
  const engineId = `spawner-test-${process.pid}`;
  const mark = formatMark({ engineId, engineProcess: '999999999.1', runId: 'R', taskRunId: 'T' });
  // a stand-in engine: a Node process that starts `sleep` through its spawner, then is SIGKILLed
  const script = `
    import { createProcessStarter } from ${JSON.stringify(new URL('./spawner.ts', import.meta.url).pathname)};
    const starter = createProcessStarter({ spawnerAfter: 0, native: false });
    await new Promise((resolve) => starter.start('true', [], '/', {}).once('close', resolve));
    while (starter.spawnerPid === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    const child = starter.start('sleep', ['300'], '/', ${JSON.stringify({ PATH, [PROCESS_MARK_ENV]: mark })});
    child.once('spawn', () => console.log(child.pid, starter.spawnerPid));`;
  const engine = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve) =>
    engine.stdout.once('data', (chunk: Buffer) => resolve(`${chunk}`)),
  );
  const [pid, spawnerPid] = line.trim().split(' ').map(Number) as [number, number];
  try {
    engine.kill('SIGKILL');
    for (let i = 0; i < 250 && existsAlive(spawnerPid); i++) await delay(20);
    assert.equal(existsAlive(spawnerPid), false, 'the spawner exits when the engine is gone');
    assert.equal(existsAlive(pid), true, 'what it started is left alone, as the engine would leave it');
    const groups = await findOrphanGroups(engineId, async () => false);
    assert.deepEqual(
      groups.map((group) => group.pgid),
      [pid],
      'a later engine finds it by its mark',
    );
  } finally {
    signalGroup(pid, 'SIGKILL');
  }
});

/** Alive and not a zombie. */
function existsAlive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
