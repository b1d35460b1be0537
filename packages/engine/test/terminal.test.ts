import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI_BUILT, runCli } from './support/cli.js';
import { runInPty } from './support/pty.js';

/* eslint-disable no-control-regex -- these tests look for the escape character itself */
/** Every ESC sequence in `text`: CSI (`ESC [ … final`), else ESC and the next character. */
const escapes = (text: string): string[] => text.match(/\u001b(\[[0-?]*[ -/]*[@-~]|.)/gs) ?? [];
/** SGR (colour and style) sequences. */
const colours = (text: string): string[] => escapes(text).filter((e) => /^\u001b\[[0-9;]*m$/.test(e));
/** Sequences that move the cursor or erase: what a live view needs to redraw itself. */
const REDRAW = /^\u001b\[(\d*[ABCDGK]|\?25[hl]|\d*J)$/;
const nonAscii = (text: string): string[] => [...text].filter((c) => c.charCodeAt(0) > 0x7e);

describe('terminal conventions of the live view (a real pseudo-terminal)', () => {
  let dir: string;
  let workflow: string;
  /** `pilotage run` of the workflow in a terminal 100 columns wide, with exactly `env` (plus PATH and HOME). */
  const live = async (env: Record<string, string>, args: string[] = []): Promise<{ text: string; code: number }> => {
    const session = await runInPty([process.execPath, CLI_BUILT, 'run', workflow, '--db', ':memory:', ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, XDG_CONFIG_HOME: join(dir, 'none'), ...env },
    });
    return { text: session.output.toString('utf8'), code: session.code };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-terminal-'));
    workflow = join(dir, 'two-stages.yaml');
    // long enough for several frames of the live view; one action fails, so the summary shows too
    await writeFile(
      workflow,
      `apiVersion: pilotage.dev/v1
kind: Workflow
name: two-stages
stages:
  - name: build
    actions:
      - { name: compile, run: "sleep 0.4; echo built" }
      - { name: lint, run: "sleep 0.3" }
  - name: test
    actions:
      - { name: unit, run: "sleep 0.3; echo 'no such fixture' >&2; exit 1" }
`,
    );
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('NO_COLOR=1 and a C locale: the live tree in ASCII, no colour, no escape sequence but those that redraw', async () => {
    const { text, code } = await live({ NO_COLOR: '1', LC_ALL: 'C', TERM: 'xterm' });
    assert.equal(code, 1, text);
    assert.deepEqual(nonAscii(text), [], 'no glyph outside ASCII');
    assert.deepEqual(colours(text), [], 'no colour');
    assert.deepEqual(
      escapes(text).filter((e) => !REDRAW.test(e)),
      [],
      'only cursor movement and erasing (the redraw of the live view)',
    );
    assert.match(text, /\|- build/, 'the live tree, in ASCII');
    assert.match(text, /`- test/);
    assert.match(text, /x unit {2}failed/, 'the failed action with its ASCII mark');
    assert.match(text, /two-stages #1 failed \(action unit failed\) in \S+ - id /, 'the summary line, ASCII dash');
  });

  test('TERM=dumb cannot redraw: one plain line per change, no escape sequence at all', async () => {
    const { text } = await live({ NO_COLOR: '1', LC_ALL: 'C', TERM: 'dumb' });
    assert.deepEqual(escapes(text), []);
    assert.deepEqual(nonAscii(text), []);
    assert.match(text, /\d\d:\d\d:\d\d\.\d{3} test\/unit failed/);
  });

  test('a UTF-8 terminal without NO_COLOR: colours and Unicode glyphs', async () => {
    const { text } = await live({ LANG: 'C.UTF-8', TERM: 'xterm' });
    assert.ok(colours(text).includes('\u001b[31m'), 'failed in red');
    assert.ok(colours(text).includes('\u001b[32m'), 'succeeded in green');
    assert.match(text, /├─ build/);
    assert.match(text, /✘/);
  });

  test('--no-color after the command, and PILOTAGE_ASCII=1 in a UTF-8 locale', async () => {
    const { text } = await live({ LANG: 'C.UTF-8', TERM: 'xterm', PILOTAGE_ASCII: '1' }, ['--no-color']);
    assert.deepEqual(colours(text), []);
    assert.deepEqual(nonAscii(text), []);
    assert.match(text, /\|- build/);
  });

  test('not a terminal: no escape sequence, whatever the locale', async () => {
    const result = await runCli(['run', workflow, '--db', ':memory:'], { env: { LANG: 'C.UTF-8', TERM: 'xterm' } });
    assert.equal(result.code, 1);
    assert.deepEqual(escapes(result.stdout + result.stderr), []);
  });
});
