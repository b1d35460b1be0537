import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createLocalExecutor } from './local-executor.js';
import { nativeStarter, readySpawner } from '../../../test/support/ready-spawner.js';
import { STDIO_DRAIN_MS } from './local-task.js';
import type { Executor, LogLine, TaskHandle, TaskSpec } from '../executor.js';
import type { ResolvedComponent } from '../../plan/types.js';

/** Is `pid` a live process? A zombie (killed, not yet reaped by anyone) counts as dead. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (process.platform !== 'linux') return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

async function waitDead(pid: number, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await delay(20);
  }
  return true;
}

/** Resolves with the first stdout line, as a number (a pid the script echoed). */
function firstPid(lines: LogLine[]): Promise<number> {
  return (async () => {
    for (let i = 0; i < 250; i++) {
      const line = lines.find((l) => l.stream === 'stdout');
      if (line !== undefined) return Number(line.line);
      await delay(20);
    }
    throw new Error('the script printed no pid');
  })();
}

for (const mode of ['with the native addon (posix_spawn)', 'direct', 'through the spawner process'] as const)
  describe(`local executor, processes started ${mode}`, () => {
    let executor: Executor;
    let workspace: string;
    let componentDir: string;
    const strays: number[] = [];

    function spec(component: Partial<ResolvedComponent>, env: Record<string, string> = {}): TaskSpec {
      return {
        runId: 'R',
        taskRunId: 'TR',
        attempt: 1,
        workflow: 'w',
        stage: 's',
        action: 'a',
        component: { name: 'test', version: '0.0.0', strict: false, env: {}, volumes: [], ...component },
        env,
        workspace: { hostDir: workspace, mountPath: workspace },
        timeoutMs: 60_000,
      };
    }

    const sh = (script: string): Partial<ResolvedComponent> => ({ command: ['sh', '-c', script] });

    async function run(component: Partial<ResolvedComponent>, env?: Record<string, string>) {
      const lines: LogLine[] = [];
      const handle = await executor.start(spec(component, env), (line) => lines.push(line));
      const exit = await handle.wait();
      await executor.destroy(handle.ref);
      return { lines, exit, handle };
    }

    const out = (lines: LogLine[], stream: 'stdout' | 'stderr') =>
      lines.filter((l) => l.stream === stream).map((l) => l.line);

    before(async () => {
      if (mode === 'direct')
        executor = createLocalExecutor({ killGraceMs: 3000, spawnerAfter: Infinity, native: false });
      else if (mode === 'through the spawner process')
        executor = createLocalExecutor({ killGraceMs: 3000, starter: await readySpawner() });
      else executor = createLocalExecutor({ killGraceMs: 3000, starter: nativeStarter() });
      workspace = await mkdtemp(join(tmpdir(), 'pilotage-ws-'));
      componentDir = await mkdtemp(join(tmpdir(), 'pilotage-comp-'));
    });
    after(async () => {
      for (const pid of strays) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await executor.close();
      await rm(workspace, { recursive: true, force: true });
      await rm(componentDir, { recursive: true, force: true });
    });

    test('name and the trivial parts of the interface', async () => {
      assert.equal(executor.name, 'local');
      assert.deepEqual(await executor.list(), []);
      assert.equal(await executor.attach('1', () => undefined), undefined);
      assert.equal(executor.callbackBaseUrl('http://127.0.0.1:5', 'http://engine:8080'), 'http://127.0.0.1:5');
      await executor.destroy('999999');
    });

    test('lines of stdout and stderr in order, CRLF, the partial last line, the exit code', async () => {
      const before = Date.now();
      const { lines, exit, handle } = await run(
        sh(
          'echo one; echo err1 >&2; printf "two\\r\\nthree\\n"; echo err2 >&2; for i in 1 2 3 4 5; do echo n$i; done; printf partial; exit 3',
        ),
      );
      assert.deepEqual(out(lines, 'stdout'), ['one', 'two', 'three', 'n1', 'n2', 'n3', 'n4', 'n5', 'partial']);
      assert.deepEqual(out(lines, 'stderr'), ['err1', 'err2']);
      assert.deepEqual(exit, { exitCode: 3 });
      assert.ok(lines.every((l) => l.ts >= before && l.ts <= Date.now()));
      assert.match(handle.ref, /^\d+$/);
      assert.equal(handle.facts['pid'], handle.ref);
      assert.equal(handle.endpointUrl, undefined);
    });

    test('many lines arrive complete and in order', async () => {
      const { lines, exit } = await run(sh('i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done'));
      assert.equal(exit.exitCode, 0);
      assert.deepEqual(
        out(lines, 'stdout'),
        Array.from({ length: 2000 }, (_, i) => `line ${i}`),
      );
    });

    test("runs in the workspace with the base of this process's env and spec.env over it; stdin is closed", async () => {
      process.env['SEC_TEST_NOT_INHERITED'] = 'yes';
      try {
        const { lines } = await run(sh('pwd; echo "${SEC_TEST_NOT_INHERITED:-unset} $CO_X $HOME"; cat; echo end'), {
          CO_X: 'x',
          HOME: '/from-spec',
        });
        assert.deepEqual(out(lines, 'stdout'), [workspace, 'unset x /from-spec', 'end']);
      } finally {
        delete process.env['SEC_TEST_NOT_INHERITED'];
      }
    });

    test("of the engine env, only the base and passEnv (the executor's and the spec's) reach the component", async () => {
      const engineEnv = {
        PATH: process.env.PATH,
        LC_ALL: 'C',
        PILOTAGE_ENCRYPTION_KEY: 'master-key',
        PILOTAGE_SECRET_X: 'secret-x',
        AWS_SECRET_ACCESS_KEY: 'aws-secret',
        AWS_REGION: 'eu-west-3',
        SSH_AUTH_SOCK: '/run/ssh',
        OTHER: 'other',
      };
      const dump = (passEnv: string[], specPass?: string[]) =>
        (async () => {
          const local = createLocalExecutor({ engineEnv, passEnv });
          const lines: LogLine[] = [];
          const handle = await local.start({ ...spec(sh('env')), ...(specPass ? { passEnv: specPass } : {}) }, (line) =>
            lines.push(line),
          );
          await handle.wait();
          await local.close();
          return Object.fromEntries(out(lines, 'stdout').map((line) => line.split(/=(.*)/s).slice(0, 2)));
        })();
      const plain = await dump([]);
      assert.equal(plain.PATH, process.env.PATH);
      assert.equal(plain.LC_ALL, 'C');
      for (const name of [
        'PILOTAGE_ENCRYPTION_KEY',
        'PILOTAGE_SECRET_X',
        'AWS_SECRET_ACCESS_KEY',
        'SSH_AUTH_SOCK',
        'OTHER',
      ]) {
        assert.equal(plain[name], undefined, name);
      }
      const passed = await dump(['SSH_AUTH_SOCK', 'PILOTAGE_*'], ['AWS_*']);
      assert.equal(passed.SSH_AUTH_SOCK, '/run/ssh');
      assert.equal(passed.AWS_SECRET_ACCESS_KEY, 'aws-secret');
      assert.equal(passed.AWS_REGION, 'eu-west-3');
      assert.equal(passed.PILOTAGE_ENCRYPTION_KEY, undefined);
      assert.equal(passed.OTHER, undefined);
    });

    test('./ resolves against the component folder, not the workspace', async () => {
      const script = join(componentDir, 'run.sh');
      await writeFile(script, '#!/bin/sh\necho "$0 $1"\npwd\n');
      await chmod(script, 0o755);
      const { lines, exit } = await run({ command: ['./run.sh'], args: ['arg'], dir: componentDir });
      assert.equal(exit.exitCode, 0);
      assert.deepEqual(out(lines, 'stdout'), [`${script} arg`, workspace]);
    });

    test('a missing command is an ExecutorError naming it (ENOENT)', async () => {
      await assert.rejects(
        executor.start(spec({ command: ['no-such-command-pilotage'] }), () => undefined),
        (error: Error & { code?: string }) => {
          assert.equal(error.name, 'ExecutorError');
          assert.equal(error.code, 'EXECUTOR');
          assert.match(error.message, /no-such-command-pilotage/);
          assert.match(error.message, /ENOENT/);
          return true;
        },
      );
      await assert.rejects(
        executor.start(spec({ command: ['./missing.sh'], dir: componentDir }), () => undefined),
        {
          code: 'EXECUTOR',
          message: new RegExp(`${componentDir}/missing.sh' does not exist`),
        },
      );
    });

    test('an environment too large for the system is an ExecutorError that says so (E2BIG), not a bare spawn failure', async () => {
      await assert.rejects(
        executor.start(spec({ command: ['true'] }, { BIG: 'x'.repeat(200_000) }), () => undefined),
        {
          code: 'EXECUTOR',
          message: /variable BIG is 200005 bytes, over the system's limit of 131072 bytes.*E2BIG.*CO_DATA_URL/,
        },
      );
    });

    test('a file that is not executable is an ExecutorError (EACCES)', async () => {
      const script = join(componentDir, 'noexec.sh');
      await writeFile(script, '#!/bin/sh\necho hi\n');
      await chmod(script, 0o644);
      await assert.rejects(
        executor.start(spec({ command: ['./noexec.sh'], dir: componentDir }), () => undefined),
        {
          code: 'EXECUTOR',
          message: /noexec\.sh' is not executable \(EACCES/,
        },
      );
    });

    test('a missing workspace is an ExecutorError', async () => {
      await assert.rejects(
        executor.start(
          { ...spec(sh('true')), workspace: { hostDir: join(workspace, 'nope'), mountPath: workspace } },
          () => undefined,
        ),
        { code: 'EXECUTOR', message: /workspace .*nope is not accessible/ },
      );
    });

    test('endpoint: a free loopback port in CO_ENDPOINT_PORT and the endpoint URL', async () => {
      const lines: LogLine[] = [];
      const handle = await executor.start(
        spec({ command: ['sh', '-c', 'echo "$CO_ENDPOINT_PORT"'], endpoint: { port: 8080, path: '/event' } }),
        (line) => lines.push(line),
      );
      await handle.wait();
      const port = Number(out(lines, 'stdout')[0]);
      assert.ok(Number.isInteger(port) && port > 0 && port !== 8080, `port ${port}`);
      assert.equal(handle.endpointUrl, `http://127.0.0.1:${port}/event`);
      // the port was released for the component to take
      await new Promise<void>((resolve, reject) => {
        const server = createServer().once('error', reject);
        server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
      });
    });

    test('kill stops the whole process group, including a background grandchild', async () => {
      const lines: LogLine[] = [];
      const handle = await executor.start(spec(sh('sleep 1000 & echo $!; sleep 1000')), (line) => lines.push(line));
      const grandchild = await firstPid(lines);
      strays.push(grandchild);
      const leader = Number(handle.ref);
      assert.ok(isAlive(grandchild) && isAlive(leader));
      const started = Date.now();
      await Promise.all([handle.kill('cancelled'), handle.kill('timeout')]);
      assert.ok(Date.now() - started < 2500, 'SIGTERM should have been enough');
      assert.equal(isAlive(grandchild), false, 'the grandchild survived');
      assert.equal(isAlive(leader), false, 'the leader survived');
      assert.deepEqual(await handle.wait(), { exitCode: null, signal: 'SIGTERM', reason: 'cancelled' });
      await handle.kill('again');
      await executor.destroy(handle.ref);
    });

    test('kill escalates to SIGKILL after the grace when SIGTERM is ignored', async () => {
      const lines: LogLine[] = [];
      const handle = await executor.start(spec(sh('trap "" TERM; sleep 1000 & echo $!; wait')), (line) =>
        lines.push(line),
      );
      const grandchild = await firstPid(lines);
      strays.push(grandchild);
      const started = Date.now();
      await handle.kill('timeout', 300);
      const took = Date.now() - started;
      assert.ok(took >= 250 && took < 2500, `took ${took} ms`);
      assert.deepEqual(await handle.wait(), { exitCode: null, signal: 'SIGKILL', reason: 'timeout' });
      assert.equal(isAlive(grandchild), false);
    });

    test('a shorter grace in a later kill brings the SIGKILL forward', async () => {
      // wait until the trap is set: a SIGTERM before it would end the shell at once
      let ready!: () => void;
      const trapped = new Promise<void>((resolve) => (ready = resolve));
      const handle = await executor.start(spec(sh('trap "" TERM; echo ready; sleep 1000; true')), (line) => {
        if (line.line === 'ready') ready();
      });
      await trapped;
      const slow = handle.kill('cancelled', 60_000);
      const started = Date.now();
      await handle.kill('cancelled', 0);
      await slow;
      assert.ok(Date.now() - started < 2500);
      assert.equal((await handle.wait()).signal, 'SIGKILL');
    });

    test('kill after a normal exit resolves and changes nothing', async () => {
      const handle = await executor.start(spec(sh('exit 0')), () => undefined);
      assert.deepEqual(await handle.wait(), { exitCode: 0 });
      await handle.kill('cancelled');
      assert.deepEqual(await handle.wait(), { exitCode: 0 });
    });

    test('daemons left behind are killed when the main process exits', async () => {
      // one keeps the output pipe open (wait() must not hang on it), one does not
      const lines: LogLine[] = [];
      const handle = await executor.start(
        spec(sh('sleep 1000 & echo $!; sleep 1000 >/dev/null 2>&1 & echo $!; exit 0')),
        (line) => lines.push(line),
      );
      const started = Date.now();
      const exit = await handle.wait();
      assert.ok(Date.now() - started < STDIO_DRAIN_MS, 'wait() hung on the daemon holding stdout');
      assert.deepEqual(exit, { exitCode: 0 });
      const pids = out(lines, 'stdout').map(Number);
      assert.equal(pids.length, 2);
      strays.push(...pids);
      await executor.destroy(handle.ref);
      for (const pid of pids) assert.equal(await waitDead(pid), true, `daemon ${pid} survived`);
    });

    test('a process that escaped the group (setsid) cannot make wait() hang', async () => {
      const lines: LogLine[] = [];
      const handle = await executor.start(
        spec(sh('(setsid sh -c "echo \\$\\$; exec sleep 30" &); sleep 0.3; echo done')),
        (line) => lines.push(line),
      );
      const exit = await handle.wait();
      assert.equal(exit.exitCode, 0);
      const escaped = Number(out(lines, 'stdout')[0]);
      assert.ok(escaped > 0);
      strays.push(escaped);
      assert.deepEqual(out(lines, 'stdout').slice(1), ['done']);
    });

    test('onLog throwing does not break reading', async () => {
      const seen: string[] = [];
      const warnings: string[] = [];
      const onWarning = (w: Error): void => void warnings.push(w.message);
      process.on('warning', onWarning);
      try {
        const handle = await executor.start(spec(sh('echo a; echo b')), (line) => {
          seen.push(line.line);
          throw new Error('boom');
        });
        assert.deepEqual(await handle.wait(), { exitCode: 0 });
        await delay(10);
      } finally {
        process.off('warning', onWarning);
      }
      assert.deepEqual(seen, ['a', 'b']);
      assert.equal(warnings.filter((w) => w.includes('boom')).length, 1);
    });

    test('concurrent starts', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => run(sh(`echo task${i}; exit ${i}`))));
      results.forEach(({ lines, exit }, i) => {
        assert.deepEqual(out(lines, 'stdout'), [`task${i}`]);
        assert.equal(exit.exitCode, i);
      });
    });
  });

describe('local executor: handle used after the test', () => {
  test('destroy of a running process kills it', async () => {
    const workspace = await mkdtemp(join(tmpdir(), 'pilotage-ws-'));
    const executor = createLocalExecutor();
    try {
      const handle: TaskHandle = await executor.start(
        {
          runId: 'R',
          taskRunId: 'TR',
          attempt: 1,
          workflow: 'w',
          stage: 's',
          action: 'a',
          component: { name: 'c', version: '1', strict: false, env: {}, volumes: [], command: ['sleep', '1000'] },
          env: {},
          workspace: { hostDir: workspace, mountPath: workspace },
          timeoutMs: 1000,
        },
        () => undefined,
      );
      await executor.destroy(handle.ref);
      assert.deepEqual(await handle.wait(), { exitCode: null, signal: 'SIGKILL', reason: 'destroyed' });
      assert.equal(isAlive(Number(handle.ref)), false);
    } finally {
      await executor.close();
      await rm(workspace, { recursive: true, force: true });
    }
  });
});
