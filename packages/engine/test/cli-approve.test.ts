import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../src/store/open-store.js';
import { CLI_BUILT, runCli, type CliResult } from './support/cli.js';
import { runInPty } from './support/pty.js';

const WORKFLOW = `apiVersion: pilotage.dev/v1
kind: Workflow
name: gated
stages:
  - name: build
    actions:
      - { name: build, run: echo built }
  - name: sign-off
    type: approval
    timeout: 10m
  - name: ship
    actions:
      - { name: ship, run: echo shipped }
`;

const ME = userInfo().username;

/** The `pilotage approve …` and `pilotage reject …` commands of a waiting line, as argv. */
function hintedCommands(text: string): { approve: string[]; reject: string[] } | undefined {
  const match = /waiting for approval: pilotage (approve [^()]+) \(or: pilotage (reject [^)]+)\)/.exec(text);
  if (match === null) return undefined;
  return { approve: match[1]!.trim().split(' '), reject: match[2]!.trim().split(' ') };
}

/**
 * `pilotage run` with a local store as a real process, not on a terminal; once its waiting line
 * appears, `decide` runs with the commands it names (another process). Resolves with both results.
 */
async function runAndDecide(
  dir: string,
  args: string[],
  decide: (commands: { approve: string[]; reject: string[] }, waiting: string) => Promise<CliResult>,
): Promise<{ run: CliResult; decision: CliResult; waiting: string }> {
  let decided: Promise<CliResult> | undefined;
  let waiting = '';
  const run = await runCli(['run', 'workflow.yaml', ...args], {
    cwd: dir,
    env: { PILOTAGE_WORKSPACE_ROOT: join(dir, 'workspaces') },
    onStdout: (text) => {
      const commands = hintedCommands(text);
      if (commands !== undefined && decided === undefined) {
        waiting = text;
        decided = decide(commands, text);
      }
    },
  });
  assert.ok(decided !== undefined, `no waiting line in:\n${run.stdout}\n${run.stderr}`);
  return { run, decision: await decided, waiting };
}

describe('approval stages in pilotage run: the waiting line, approve/reject --db from another process', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-approve-'));
    await writeFile(join(dir, 'workflow.yaml'), WORKFLOW);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('the waiting line names the exact command with the absolute store path; approve from another process moves the run on', async () => {
    // a relative --db: the line must still name it absolutely, for a shell elsewhere
    const { run, decision, waiting } = await runAndDecide(dir, ['--db', 'approve.db', '--plain'], (commands) =>
      runCli([...commands.approve, '--comment', 'from shell 2'], { cwd: tmpdir() }),
    );
    assert.match(waiting, new RegExp(`--db ${join(dir, 'approve.db').replaceAll('.', '\\.')}`));
    assert.equal(decision.code, 0, decision.stderr);
    assert.match(decision.stdout, new RegExp(`sign-off of run \\w+: approved by ${ME}: from shell 2`));
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, new RegExp(`sign-off/sign-off succeeded \\(.*approved by ${ME}: from shell 2\\)`));
    assert.match(run.stdout, /ship\/ship succeeded/);
  });

  test('reject from another process fails the run with the decision as its reason; a second decision is refused', async () => {
    const db = join(dir, 'reject.db');
    const { run, decision } = await runAndDecide(dir, ['--db', db, '--plain'], (commands) =>
      runCli([...commands.reject, '--comment', 'not today', '--json']),
    );
    assert.equal(decision.code, 0, decision.stderr);
    const recorded = JSON.parse(decision.stdout) as { runId: string; decision: string; by: string; taskRun: any };
    assert.equal(recorded.decision, 'rejected');
    assert.equal(recorded.by, ME);
    assert.equal(run.code, 1);
    const shown = await runCli(['runs', 'show', recorded.runId, '--db', db, '--json']);
    const { run: record, tasks } = JSON.parse(shown.stdout) as { run: any; tasks: any[] };
    assert.equal(record.state, 'failed');
    assert.match(record.reason, new RegExp(`sign-off.*rejected by ${ME}: not today`));
    assert.equal(tasks.find((t) => t.action === 'ship')?.state ?? 'skipped', 'skipped', 'ship never ran');

    const again = await runCli(['approve', recorded.runId, 'sign-off', '--db', db]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no approval stage sign-off waiting for a decision/);
    const noStage = await runCli(['approve', recorded.runId, 'deploy', '--db', db]);
    assert.equal(noStage.code, 2);
    assert.match(noStage.stderr, /has no approval stage deploy/);
  });

  test('--json: the waiting stage is one JSON line with both commands', async () => {
    const db = join(dir, 'json.db');
    const lines: string[] = [];
    let decided: Promise<CliResult> | undefined;
    const run = await runCli(['run', 'workflow.yaml', '--db', db, '--json'], {
      cwd: dir,
      env: { PILOTAGE_WORKSPACE_ROOT: join(dir, 'workspaces') },
      onStdout: (text) => {
        const hint = text
          .split('\n')
          .map((line) => (line.startsWith('{"kind":"approval"') ? line : undefined))
          .find((line) => line !== undefined);
        if (hint !== undefined && decided === undefined) {
          lines.push(hint);
          const { approve } = JSON.parse(hint) as { approve: string };
          decided = runCli(approve.split(' ').slice(1));
        }
      },
    });
    assert.ok(decided !== undefined, run.stdout);
    assert.equal((await decided).code, 0);
    const hint = JSON.parse(lines[0]!) as { runId: string; stage: string; approve: string; reject: string };
    assert.equal(hint.stage, 'sign-off');
    assert.equal(hint.approve, `pilotage approve ${hint.runId} sign-off --db ${db}`);
    assert.equal(hint.reject, `pilotage reject ${hint.runId} sign-off --db ${db}`);
    assert.equal(run.code, 0);
  });

  test('an in-memory store: the waiting line says no other process can decide', async () => {
    const run = await runCli(['run', 'workflow.yaml', '--db', ':memory:', '--plain'], {
      cwd: dir,
      env: { PILOTAGE_WORKSPACE_ROOT: join(dir, 'workspaces') },
      onStdout: (text, kill) => {
        if (/waiting for approval/.test(text)) kill('SIGINT');
      },
    });
    assert.match(run.stdout, /in-memory store: no other process can decide; answer here, or wait for the timeout/);
    assert.equal(run.code, 130);
  });
});

describe('approval stages in pilotage run on a terminal: the prompt (a real pseudo-terminal)', () => {
  let dir: string;
  const env = (): Record<string, string> => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    LANG: 'C.UTF-8',
    XDG_CONFIG_HOME: join(dir, 'none'),
  });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-prompt-'));
    await writeFile(join(dir, 'workflow.yaml'), WORKFLOW);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  /** `pilotage run` of the workflow on its own store, in a terminal, playing `steps`. */
  const inTerminal = (db: string, steps: { send?: string; expect?: string }[]) =>
    runInPty([process.execPath, CLI_BUILT, 'run', join(dir, 'workflow.yaml'), '--db', db], { env: env(), steps });

  test('y and a comment approve the stage; the run goes on and succeeds', async () => {
    const db = join(dir, 'yes.db');
    const session = await inTerminal(db, [
      { expect: 'approve stage sign-off of run \\w+\\? \\[y/n\\]' },
      { send: 'maybe\r', expect: 'answer y to approve or n to reject' },
      { send: 'y\r', expect: 'comment \\(optional' },
      { send: 'ship it\r', expect: 'details: pilotage runs show' },
    ]);
    const text = session.output.toString('utf8');
    assert.deepEqual(session.matched, [true, true, true, true], text);
    assert.equal(session.code, 0, text);
    const store = await openStore({ url: db });
    try {
      const [run] = await store.runs.list({});
      const gate = (await store.taskRuns.listByRun(run!.id)).find((t) => t.stage === 'sign-off')!;
      assert.equal(gate.state, 'succeeded');
      assert.equal(gate.message, `approved by ${ME}: ship it`);
    } finally {
      await store.close();
    }
  });

  test('Ctrl-C at the prompt cancels the run (exit 130), as it does anywhere else', async () => {
    const db = join(dir, 'interrupt.db');
    const session = await inTerminal(db, [
      { expect: 'approve stage sign-off of run \\w+\\? \\[y/n\\]' },
      { send: '\u0003', expect: 'cancelling' },
    ]);
    const text = session.output.toString('utf8');
    assert.deepEqual(session.matched, [true, true], text);
    assert.equal(session.code, 130, text);
    const store = await openStore({ url: db });
    try {
      const [run] = await store.runs.list({});
      assert.equal(run!.state, 'cancelled');
    } finally {
      await store.close();
    }
  });

  test('a decision from another process closes the prompt and the run goes on', async () => {
    const db = join(dir, 'elsewhere.db');
    const session = inTerminal(db, [
      { expect: 'approve stage sign-off of run \\w+\\? \\[y/n\\]' },
      { expect: 'details: pilotage runs show' },
    ]);
    // the waiting run, read from its store; then a second process approves it. The store is read
    // only once the run's process has made it (`migrate: 'check'` writes nothing): the test never
    // creates or migrates the store the process is opening
    let runId: string | undefined;
    for (let i = 0; i < 300 && runId === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (!existsSync(db)) continue;
      const store = await openStore({ url: db, migrate: 'check' }).catch(() => undefined);
      if (store === undefined) continue;
      try {
        for (const run of await store.runs.listByState(['running'])) {
          const tasks = await store.taskRuns.listByRun(run.id);
          if (tasks.some((t) => t.stage === 'sign-off' && t.state === 'running')) runId = run.id;
        }
      } catch {
        // read again at the next turn
      } finally {
        await store.close();
      }
    }
    if (runId === undefined) {
      // failed once under the full suite's load (session 7): say what the terminal showed
      const ended = await session;
      assert.fail(`the run never waited; its terminal (exit ${ended.code}):\n${ended.output.toString('utf8')}`);
    }
    const decision = await runCli(['approve', runId, 'sign-off', '--db', db, '--comment', 'done elsewhere']);
    assert.equal(decision.code, 0, decision.stderr);
    const result = await session;
    const text = result.output.toString('utf8');
    assert.deepEqual(result.matched, [true, true], text);
    assert.equal(result.code, 0, text);
    assert.match(text, /approved by \w+: done elsewhere/);
  });
});
