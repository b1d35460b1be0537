import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { STDERR_MARK, streamOf, withStderrTag } from './stderr-tag.js';

/** Run argv (SIGTERM it once its stdout says `ready`); resolve with its exit code and output. */
function run(argv: readonly string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) child.kill('SIGTERM');
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('the stderr tag wrapper (run by sh, as in a pod)', () => {
  test('only shell commands are wrapped, under their own shell', () => {
    const plain = ['/bin/tool', '--x'];
    assert.equal(withStderrTag(plain), plain);
    assert.deepEqual(withStderrTag(['/usr/bin/bash', '-c', 'x']).slice(0, 2), ['/usr/bin/bash', '-c']);
    assert.deepEqual(withStderrTag(['sh', '-c', 'x']).slice(3), ['pilotage-stderr-tag', 'sh', '-c', 'x']);
  });

  test('stderr lines are marked (the last one even without a newline), stdout untouched, the exit status kept', async () => {
    const { code, out, err } = await run(
      withStderrTag(['sh', '-c', 'echo out1; echo err1 >&2; echo out2; printf tail >&2; exit 3']),
    );
    assert.equal(code, 3);
    assert.equal(out, 'out1\nout2\n');
    assert.equal(err, `${STDERR_MARK}err1\n${STDERR_MARK}tail\n`);
    assert.deepEqual(err.trim().split('\n').map(streamOf), [
      { stream: 'stderr', line: 'err1' },
      { stream: 'stderr', line: 'tail' },
    ]);
  });

  test('SIGTERM reaches the component, which may exit as it likes', async () => {
    const { code, err } = await run(
      // the wrapper traps TERM before its own first line has run, so `ready` comes after that
      withStderrTag(['sh', '-c', 'trap "echo stopping >&2; exit 7" TERM; sleep 0.5; echo ready; sleep 30 & wait']),
    );
    assert.equal(code, 7);
    assert.equal(err, `${STDERR_MARK}stopping\n`);
  });

  test('a SIGTERM soon after the start, many times at once: the exit status is always the component own', async () => {
    // the wrapper's `wait` ends early on the trapped signal; when the component was already reaped
    // by then, the early status (143) used to be taken for its own (1 run in 40 here, under busybox)
    const runs = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        run(
          withStderrTag([
            'sh',
            '-c',
            `trap "echo stopping >&2; exit 7" TERM; sleep ${['0', '0.05', '0.2'][i % 3]}; echo ready; sleep 1 & wait`,
          ]),
        ),
      ),
    );
    assert.deepEqual(
      runs.map((r) => r.code),
      runs.map(() => 7),
    );
  });
});
