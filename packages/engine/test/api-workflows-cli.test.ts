import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';
import { runCli, ROOT, type CliResult } from './support/cli.js';

// The registry and workflow commands of the built CLI (npm test builds first) against a real
// server on a free port.

const root = ROOT;

function pilotage(args: string[], env: Record<string, string>, cwd = root): Promise<CliResult> {
  return runCli(args, { env, cwd });
}

describe('CLI: component and workflow commands against a server', { concurrency: false }, () => {
  let h: ApiHarness;
  let env: Record<string, string>;
  let reader: string;
  let dir: string;
  before(async () => {
    h = await createApiHarness();
    env = { PILOTAGE_SERVER: h.server.url, PILOTAGE_TOKEN: h.admin };
    reader = await h.token('read');
    dir = await mkdtemp(join(tmpdir(), 'pilotage-cli-registry-'));
  });
  after(async () => {
    await h.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('component register DIR registers every component of components/; again, all unchanged', async () => {
    const first = await pilotage(['component', 'register', 'components'], env);
    assert.equal(first.code, 0, first.stderr);
    const lines = first.stdout.trim().split('\n');
    assert.ok(lines.length >= 6, first.stdout);
    assert.ok(lines.includes('registered greet-sh@1.0.0  (components/greet-sh/component.yaml)'), first.stdout);
    const again = await pilotage(['component', 'register', 'components', '--json'], env);
    assert.equal(again.code, 0, again.stderr);
    const outcomes = again.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string; name: string });
    assert.equal(outcomes.length, lines.length);
    assert.ok(outcomes.every((o) => o.status === 'unchanged'));
    const stored = await h.call('GET', '/v1/components/greet-sh/1.0.0');
    assert.equal(stored.body.dir, join(root, 'components/greet-sh'), 'the folder goes along for the local executor');
  });

  test('component register: a changed text under a registered version fails; an invalid file names its line', async () => {
    const folder = join(dir, 'greet-copy');
    await cp(join(root, 'components/greet-sh'), folder, { recursive: true });
    const file = join(folder, 'component.yaml');
    const original = await readFile(file, 'utf8');
    await writeFile(file, original.replace('timeout: 1m', 'timeout: 2m'));
    const changed = await pilotage(['component', 'register', folder], env);
    assert.equal(changed.code, 1);
    assert.match(changed.stderr, /greet-sh@1\.0\.0 is already registered with a different text/);
    await writeFile(file, original.replace('version: 1.0.0', 'version: 1.2.0').replace('timeout: 1m', 'timeout: soon'));
    const invalid = await pilotage(['component', 'register', file], env, dir);
    assert.equal(invalid.code, 2, invalid.stderr);
    assert.match(invalid.stderr, /^greet-copy\/component\.yaml:\d+:10: timeout: expected a duration/m);
    assert.match(invalid.stderr, /1 problem found/);
    await writeFile(file, original.replace('version: 1.0.0', 'version: 1.2.0'));
    assert.equal((await pilotage(['component', 'register', file], env)).code, 0);
    await writeFile(file, original.replace('version: 1.0.0', 'version: 1.3.0'));
    assert.equal((await pilotage(['component', 'register', file], env)).code, 0);
    await writeFile(file, original.replace('version: 1.0.0', 'version: 2.0.0'));
    assert.equal((await pilotage(['component', 'register', file], env)).code, 0);
  });

  test('component list, show and deprecate', async () => {
    const list = await pilotage(['component', 'list', '--token', reader], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^greet-sh@2\.0\.0$/m);
    const searched = await pilotage(['component', 'list', '--query', 'FLAKY', '--json'], env);
    assert.deepEqual(
      (JSON.parse(searched.stdout) as { components: { name: string }[] }).components.map((c) => c.name),
      ['flaky-sh'],
    );
    const deprecated = await pilotage(['component', 'deprecate', 'greet-sh@1.3.0', '--message', 'do not use'], env);
    assert.equal(deprecated.code, 0, deprecated.stderr);
    assert.equal(deprecated.stdout, 'deprecated greet-sh@1.3.0: do not use\n');
    const show = await pilotage(['component', 'show', 'greet-sh@1.2.0'], env);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^greet-sh@1\.2\.0/);
    assert.match(show.stdout, /versions: {3}2\.0\.0, 1\.3\.0 \(deprecated\), 1\.2\.0, 1\.0\.0/);
    const source = await pilotage(['component', 'show', 'greet-sh', '--source'], env);
    assert.match(source.stdout, /^version: 2\.0\.0$/m);
    const missing = await pilotage(['component', 'show', 'nothing-here'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /component nothing-here is not registered/);
    const readOnly = await pilotage(['component', 'deprecate', 'greet-sh@1.0.0', '--token', reader], env);
    assert.equal(readOnly.code, 1);
    assert.match(readOnly.stderr, /needs admin/);
  });

  test('workflow apply resolves greet-sh@^1 to the highest live 1.x; list, show, diff, enable, disable', async () => {
    const applied = await pilotage(['workflow', 'apply', 'examples/server/hello.yaml'], env);
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(applied.stdout, 'applied hello version 1\n');
    const plan = (await h.call('GET', '/v1/workflows/hello/versions/1')).body.plan;
    assert.equal(plan.stages[0].actions[0].component.version, '1.2.0', '1.3.0 is deprecated, 2.0.0 out of range');
    const same = await pilotage(['workflow', 'apply', 'examples/server/hello.yaml'], env);
    assert.equal(same.stdout, 'unchanged hello (version 1)\n');

    const edited = join(dir, 'hello.yaml');
    const text = await readFile(join(root, 'examples/server/hello.yaml'), 'utf8');
    await writeFile(edited, text.replace('default: world', 'default: there'));
    assert.equal((await pilotage(['workflow', 'apply', edited], env)).stdout, 'applied hello version 2\n');

    const list = await pilotage(['workflow', 'list', '--token', reader], env);
    assert.equal(list.stdout, 'hello  v2  enabled  manual\n');
    const show = await pilotage(['workflow', 'show', 'hello'], env);
    assert.match(show.stdout, /^hello {2}enabled {2}latest version 2$/m);
    assert.match(show.stdout, /^ {2}v2 .*by test-admin/m);
    assert.match(show.stdout, /^ {2}v1 /m);
    const source = await pilotage(['workflow', 'show', 'hello', '--version', '1', '--source'], env);
    assert.equal(source.stdout, text);
    const diff = await pilotage(['workflow', 'diff', 'hello', '1', '2'], env);
    assert.equal(diff.code, 0, diff.stderr);
    assert.match(diff.stdout, /^--- hello@1\n\+\+\+ hello@2\n@@ /);
    assert.match(diff.stdout, /^- {4}name: \{ type: string, default: world \}$/m);
    assert.match(diff.stdout, /^\+ {4}name: \{ type: string, default: there \}$/m);

    assert.equal((await pilotage(['workflow', 'disable', 'hello'], env)).stdout, 'hello disabled\n');
    assert.match((await pilotage(['workflow', 'list'], env)).stdout, /hello {2}v2 {2}disabled/);
    assert.equal(
      (await pilotage(['workflow', 'enable', 'hello', '--json'], env)).stdout,
      '{"name":"hello","enabled":true}\n',
    );
  });

  test('workflow apply: an unknown component is reported at its line, exit 2, and nothing is stored', async () => {
    const file = join(dir, 'broken.yaml');
    const text = (await readFile(join(root, 'examples/server/hello.yaml'), 'utf8'))
      .replace('\nname: hello', '\nname: broken')
      .replace('component: greet-sh@^1', 'component: nothing-here@^1');
    await writeFile(file, text);
    const line = text.split('\n').findIndex((l) => l.includes('nothing-here')) + 1;
    const r = await pilotage(['workflow', 'apply', 'broken.yaml'], env, dir);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      new RegExp(
        `^broken\\.yaml:${line}:20: stages\\[0\\]\\.actions\\[0\\]\\.component: component nothing-here is not registered`,
        'm',
      ),
    );
    const json = await pilotage(['workflow', 'apply', 'broken.yaml', '--json'], env, dir);
    const body = JSON.parse(json.stdout) as { error: { code: string; issues: { line: number }[] } };
    assert.equal(body.error.code, 'PLAN_INVALID');
    assert.equal(body.error.issues[0]?.line, line);
    assert.equal((await h.call('GET', '/v1/workflows/broken')).status, 404);
  });

  test('without a server, or with a bad token, the commands say so', async () => {
    const none = await pilotage(['workflow', 'list'], {});
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no server given: pass --server URL or set PILOTAGE_SERVER/);
    const bad = await pilotage(['workflow', 'list', '--token', 'plt_wrong'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /error: /);
    const badNumber = await pilotage(['workflow', 'diff', 'hello', 'one'], env);
    assert.equal(badNumber.code, 2);
    assert.match(badNumber.stderr, /FROM must be a version number/);
  });
});
