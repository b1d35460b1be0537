import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from './support/cli.js';
import { eventually, processesOfRun } from './support/harness.js';

/** Run the built CLI (npm test builds first) with its own store. */
function pilotage(
  args: string[],
  env: Record<string, string>,
  onStdout?: (text: string, kill: (s: NodeJS.Signals) => void) => void,
): Promise<CliResult> {
  return runCli(args, { env, ...(onStdout ? { onStdout } : {}) });
}

describe('the pilotage CLI', { concurrency: false }, () => {
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-cli-'));
    env = { PILOTAGE_DB: join(dir, 'p.db'), PILOTAGE_DATA_DIR: dir };
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('run: a succeeding workflow exits 0 and prints its progress', async () => {
    const r = await pilotage(['run', 'examples/hello/workflow.yaml', '--input', 'name=CLI', '--plain'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /greet\/greet succeeded/);
    assert.match(r.stdout, /run hello #1 succeeded/);
  });

  test('run: a failing workflow exits 1 and shows the failing action, its reason and last log lines', async () => {
    const r = await pilotage(['run', 'examples/resilience/workflow.yaml', '--plain'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /✘ .*broken.* failed: .*3/);
    assert.match(r.stderr, /│/, 'log lines of the failing action');
    assert.match(r.stderr, /timeout/);
  });

  test('run: a malformed --secret is a usage error that never prints the secret', async () => {
    const r = await pilotage(['run', 'examples/hello/workflow.yaml', '--secret', 'hunter2-no-equals-sign'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--secret must look like NAME=value/);
    assert.doesNotMatch(r.stdout + r.stderr, /hunter2/);
  });

  test('run --json: one JSON object per line, ending with the result', async () => {
    const r = await pilotage(['run', 'examples/hello/workflow.yaml', '--json'], env);
    assert.equal(r.code, 0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; run?: { state: string } });
    assert.equal(lines.at(-1)!.kind, 'result');
    assert.equal(lines.at(-1)!.run!.state, 'succeeded');
    assert.ok(lines.some((l) => l.kind === 'task'));
  });

  test('run: Ctrl-C cancels cleanly, kills the processes and exits 130', async () => {
    const file = join(dir, 'long.yaml');
    await writeFile(
      file,
      'apiVersion: pilotage.dev/v1\nkind: Workflow\nname: long\nstages:\n  - name: s\n    actions:\n      - { name: wait, run: "sleep 300 & sleep 300" }\n',
    );
    let sent = false;
    const r = await pilotage(['run', file, '--plain'], env, (out, kill) => {
      if (!sent && /s\/wait running/.test(out)) {
        sent = true;
        kill('SIGINT');
      }
    });
    assert.equal(r.code, 130, r.stderr);
    const list = await pilotage(['runs', 'list', '--workflow', 'long', '--json'], env);
    const runs = (JSON.parse(list.stdout) as { runs: { id: string; state: string }[] }).runs;
    assert.equal(runs[0]!.state, 'cancelled');
    assert.deepEqual(
      await eventually(async () => ((await processesOfRun(runs[0]!.id)).length === 0 ? [] : undefined), 5000),
      [],
    );
    const show = await pilotage(['runs', 'show', runs[0]!.id, '--json'], env);
    const detail = JSON.parse(show.stdout) as { tasks: { state: string }[]; transitions: { to: string }[] };
    assert.equal(detail.tasks[0]!.state, 'cancelled');
    assert.deepEqual(
      detail.transitions.map((t) => t.to),
      ['queued', 'running', 'cancelled'],
    );
  });

  test('validate: exit 2 with file, line, column and field; exit 0 for the examples', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      'apiVersion: pilotage.dev/v1\nkind: Workflow\nname: bad\nstages:\n  - name: s\n    actions:\n      - name: a\n        rn: "true"\n',
    );
    const r = await pilotage(['validate', bad], env);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:8:9: stages\\[0\\]\\.actions\\[0\\]`),
    );
    assert.match(r.stderr, /did you mean "run"/);
    const ok = await pilotage(
      [
        'validate',
        'examples/hello/workflow.yaml',
        'examples/build-pipeline/workflow.yaml',
        'components/greet-sh/component.yaml',
      ],
      env,
    );
    assert.equal(ok.code, 0, ok.stderr);
  });

  test('component test: a contract report with every step', async () => {
    const r = await pilotage(
      ['component', 'test', 'components/greet-sh/component.yaml', '--data', '{"name":"report"}', '--json'],
      env,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as {
      ok: boolean;
      steps: { env: string; seen: boolean }[];
      exitCode: number;
      output: Record<string, unknown>;
    };
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.steps.filter((s) => s.seen).map((s) => s.env),
      ['CO_COMPONENT_START', 'CO_TASK_START', 'CO_TASK_STATUS', 'CO_TASK_RESULT', 'CO_COMPONENT_STOP'],
    );
    assert.equal(report.exitCode, 0);
    assert.ok(Object.keys(report.output).length > 0);
  });

  test('component test: refused calls and missing steps are reported as violations', async () => {
    const comp = join(dir, 'rude.component.yaml');
    await writeFile(
      comp,
      'apiVersion: pilotage.dev/v1\nkind: Component\nname: rude\nversion: 1.0.0\nstrict: true\ncommand: ["sh", "-c", "wget -q -O /dev/null --post-data \'{}\' \\"$CO_TASK_RESULT\\" || true"]\n',
    );
    const r = await pilotage(['component', 'test', comp], env);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /refused calls/);
    assert.match(r.stdout, /task-result: (400|409)/);
    assert.match(r.stdout, /CO_COMPONENT_START\s+missing/);
  });

  test('schema: prints the published JSON Schema', async () => {
    const r = await pilotage(['schema', 'workflow'], env);
    assert.equal(r.code, 0);
    const schema = JSON.parse(r.stdout) as { $schema?: string; properties?: Record<string, unknown> };
    assert.ok(schema.properties && 'stages' in schema.properties);
  });
});
