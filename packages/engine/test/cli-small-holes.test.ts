import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI_BUILT, runCli } from './support/cli.js';

/** Issue 9, item 5, through the CLI: what `--json` prints, bad keys, files that are not YAML. */
describe('issue 9 through the CLI', () => {
  let dir: string;
  before(async () => {
    assert.ok(existsSync(CLI_BUILT), `build first (npm run build): ${CLI_BUILT} is missing`);
    dir = await mkdtemp(join(tmpdir(), 'pilotage-cli-holes-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const workflow = `apiVersion: pilotage.dev/v1
kind: Workflow
name: plain
stages:
  - name: s
    actions:
      - { name: a, run: 'echo "[COUT] ok=yes"' }
`;

  test('--json output never carries a task run token hash (run, runs show, runs list)', async () => {
    await writeFile(join(dir, 'plain.yaml'), workflow);
    const db = join(dir, 'json.db');
    const env = { PILOTAGE_DATA_DIR: dir };
    const run = await runCli(['run', join(dir, 'plain.yaml'), '--json', '--db', db], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /"kind":"task"/, 'task updates were printed');
    const id = (JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { run: { id: string } }).run.id;
    const show = await runCli(['runs', 'show', id, '--json', '--db', db], { env });
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /"tasks":\[\{/);
    for (const output of [run.stdout, show.stdout]) assert.ok(!output.includes('tokenHash'), output);
  });

  test('__proto__, constructor and prototype keys: the YAML error names file, line and column; --data names the field', async () => {
    const bad = workflow.replace(`- { name: a, run: 'echo "[COUT] ok=yes"' }`, "- name: a\n        run: 'true'");
    await writeFile(join(dir, 'bad.yaml'), `${bad}        with: { a: { constructor: 1 } }\n`);
    const validate = await runCli(['validate', join(dir, 'bad.yaml')]);
    assert.equal(validate.code, 2, validate.stdout + validate.stderr);
    assert.match(
      validate.stdout + validate.stderr,
      /bad\.yaml:9:22: stages\[0\]\.actions\[0\]\.with\.a\.constructor: the key "constructor" is not allowed/,
    );

    await writeFile(join(dir, 'plain.yaml'), workflow);
    const data = await runCli([
      'run',
      join(dir, 'plain.yaml'),
      '--db',
      ':memory:',
      '--data',
      '{"x": {"__proto__": {"y": 1}}}',
    ]);
    assert.equal(data.code, 2);
    assert.match(data.stderr, /--data\.x\.__proto__: the key "__proto__" is not allowed/);
  });

  test('a file that is not YAML or JSON is not echoed back in the error', async () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';
    await writeFile(join(dir, 'key.pem'), pem);
    await writeFile(join(dir, 'data.txt'), 'hunter2hunter2 is my password');
    await writeFile(join(dir, 'plain.yaml'), workflow);
    for (const args of [
      ['validate', join(dir, 'key.pem')],
      ['run', join(dir, 'key.pem'), '--db', ':memory:'],
      ['run', join(dir, 'plain.yaml'), '--db', ':memory:', '--data', `@${join(dir, 'data.txt')}`],
      ['run', join(dir, 'plain.yaml'), '--db', ':memory:', '--data', `@${join(dir, 'key.pem')}`],
    ]) {
      const result = await runCli(args);
      const output = result.stdout + result.stderr;
      assert.notEqual(result.code, 0, args.join(' '));
      assert.ok(!output.includes('MIIEvQ') && !output.includes('hunter2') && !output.includes('BEGIN'), output);
    }
  });
});
