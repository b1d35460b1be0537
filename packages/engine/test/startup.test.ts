import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cliModules } from './support/loaded-modules.js';

/** Modules by what they are for: a command that does not use one must not load it. */
const KINDS: Readonly<Record<string, RegExp>> = {
  database: /better-sqlite3|\/node_modules\/pg\/|\/node_modules\/kysely\/|\/vendor\/kysely\.js|\/dist\/store\//,
  HTTP: /^node:https?$|\/node_modules\/(fastify|undici|@fastify)\/|\/dist\/api\/|\/dist\/protocol\/server\.js/,
  Docker: /\/node_modules\/(dockerode|docker-modem|ssh2|@grpc)\/|\/dist\/executor\/docker\/docker-executor\.js/,
  'web server': /\/node_modules\/(fastify|avvio|find-my-way|pino)\//,
  OpenTelemetry: /\/node_modules\/@opentelemetry\//,
  'CloudEvents SDK': /\/node_modules\/cloudevents\//,
  'JSON Schema compiler': /\/node_modules\/ajv\/dist\/(2020|ajv|core|compile)/,
  'live view renderer': /\/node_modules\/log-update\//,
  // the API's route schemas (TypeBox, ~200 modules) and the client: only commands that call a server
  'API client': /\/node_modules\/@sinclair\/typebox\/|\/packages\/api\/dist\/|\/dist\/cli\/api-client\.js/,
  // the libraries of workflow features (plan/on-first-use.ts): loaded when a workflow uses one
  CEL: /\/vendor\/cel-js|\/node_modules\/@marcbachmann\/cel-js\//,
  RE2: /\/node_modules\/re2js\//,
  cron: /\/node_modules\/croner\//,
  semver: /\/node_modules\/semver\//,
  // the full YAML parser: only for a file that plan/common-yaml.ts leaves to it (an anchor, a tag…)
  'YAML parser': /\/vendor\/yaml\.c?js|\/node_modules\/yaml\//,
};

const loadedKinds = (modules: readonly string[], kinds: readonly string[]): Record<string, string[]> => {
  const found: Record<string, string[]> = {};
  for (const kind of kinds) {
    const hits = modules.filter((m) => KINDS[kind]!.test(m));
    if (hits.length > 0) found[kind] = hits.slice(0, 3);
  }
  return found;
};

describe('start-up: a command loads only what it uses (issue 15)', () => {
  let dir: string;
  let workflow: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-startup-'));
    workflow = join(dir, 'one.yaml');
    await writeFile(
      workflow,
      'apiVersion: pilotage.dev/v1\nkind: Workflow\nname: one\nstages:\n  - name: s\n    actions:\n      - { name: a, run: "true" }\n',
    );
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('pilotage --version imports no database, HTTP or Docker module, and no command module', async () => {
    const result = await cliModules(['--version']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), '0.1.0');
    assert.deepEqual(loadedKinds(result.modules, Object.keys(KINDS)), {});
    assert.deepEqual(
      result.modules.filter((m) => m.includes('/dist/cli/commands/')),
      [],
    );
    assert.ok(result.modules.length < 60, `${result.modules.length} modules`);
  });

  test('pilotage --help lists every command from stubs, loading none of them', async () => {
    const result = await cliModules(['--help']);
    assert.equal(result.code, 0, result.stderr);
    for (const name of ['run [options] <workflow>', 'runs', 'serve [options]', 'completion <shell>'])
      assert.ok(result.stdout.includes(name), name);
    assert.deepEqual(
      result.modules.filter((m) => m.includes('/dist/cli/commands/')),
      [],
    );
  });

  test('a local one-action pilotage run loads no web server, API client, Docker client, OpenTelemetry, CloudEvents SDK, schema compiler, live renderer, nor the libraries of features it does not use', async () => {
    const result = await cliModules(['run', workflow, '--db', ':memory:']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /one #1 succeeded/);
    assert.deepEqual(
      loadedKinds(result.modules, [
        'Docker',
        'web server',
        'API client',
        'OpenTelemetry',
        'CloudEvents SDK',
        'JSON Schema compiler',
        'live view renderer',
        'CEL',
        'RE2',
        'cron',
        'semver',
        'YAML parser',
      ]),
      {},
    );
    assert.ok(
      result.modules.some((m) => m.endsWith('/vendor/kysely.js')),
      'the store, from its bundle',
    );
    assert.ok(!result.modules.some((m) => m.includes('/node_modules/kysely/')), 'not from its 262 files');
  });

  test('a run loads no migration, and of semver only the functions it calls; the generated schema only for a new store', async () => {
    const db = join(dir, 'kept.db');
    const migrations = (modules: readonly string[]): string[] =>
      modules.filter((m) => /\/dist\/store\/migrations\/\d{4}-/.test(m));
    const schema = (modules: readonly string[]): boolean =>
      modules.some((m) => m.endsWith('/dist/store/sqlite/fresh-schema.generated.js'));
    const first = await cliModules(['run', workflow, '--db', db]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(migrations(first.modules), [], 'a new store gets the schema at once');
    assert.ok(schema(first.modules), 'from the generated snapshot');
    const again = await cliModules(['run', workflow, '--db', db]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(migrations(again.modules), []);
    assert.ok(!schema(again.modules), 'an up-to-date store needs no snapshot');
    assert.ok(
      !again.modules.some((m) => m.endsWith('/node_modules/semver/index.js')),
      "semver's index loads its ~50 files",
    );
  });

  test('a workflow that uses expressions, a pattern and a schedule loads CEL, RE2 and croner when it needs them', async () => {
    const file = join(dir, 'features.yaml');
    await writeFile(
      file,
      `apiVersion: pilotage.dev/v1
kind: Workflow
name: features
triggers:
  - cron: "0 3 * * *"
inputs:
  type: object
  properties: { who: { type: string, pattern: "^[a-z]+$", default: "ada" } }
stages:
  - name: s
    actions:
      - name: greet
        if: \${{ size(inputs.who) > 1 }}
        env: { WHO: "\${{ inputs.who }}" }
        run: echo "hello $WHO"
`,
    );
    const result = await cliModules(['run', file, '--db', ':memory:', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /"line":"hello ada"/, 'the expressions were evaluated, from the bundle');
    assert.deepEqual(Object.keys(loadedKinds(result.modules, ['CEL', 'RE2', 'cron'])), ['CEL', 'RE2', 'cron']);
    assert.ok(
      result.modules.some((m) => m.endsWith('/vendor/cel-js.cjs')),
      `CEL from its CommonJS bundle: ${loadedKinds(result.modules, ['CEL']).CEL}`,
    );
  });

  test('a workflow the common YAML reader leaves over (an anchor) is read by the full YAML parser, from its bundle', async () => {
    const file = join(dir, 'anchors.yaml');
    await writeFile(
      file,
      'apiVersion: pilotage.dev/v1\nkind: Workflow\nname: anchors\nstages:\n  - name: s\n    actions:\n      - &greet { name: a, run: "echo hi" }\n      - { name: b, run: "echo again" }\n',
    );
    const result = await cliModules(['run', file, '--db', ':memory:']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /anchors #1 succeeded/);
    assert.deepEqual(loadedKinds(result.modules, ['YAML parser']), {
      'YAML parser': [result.modules.find((m) => m.endsWith('/vendor/yaml.cjs'))],
    });
  });

  test('the command as it ships is one bundle: it loads a few of its files, none of dist/ one by one, and the same packages', async () => {
    const ownFiles = (modules: readonly string[]) => modules.filter((m) => m.includes('/packages/engine/dist/'));
    const version = await cliModules(['--version'], { bundled: true });
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), '0.1.0');
    assert.deepEqual(loadedKinds(version.modules, Object.keys(KINDS)), {});
    const run = await cliModules(['run', workflow, '--db', ':memory:'], { bundled: true });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /one #1 succeeded/);
    const own = ownFiles(run.modules);
    assert.deepEqual(
      own.filter((m) => !m.includes('/dist/bundle/')),
      [],
      'nothing of dist/ but the bundle',
    );
    const unbundled = await cliModules(['run', workflow, '--db', ':memory:']);
    assert.ok(
      3 * own.length < ownFiles(unbundled.modules).length,
      `the bundle's ${own.length} files against ${ownFiles(unbundled.modules).length} modules`,
    );
    const packages = (modules: readonly string[]) =>
      [...new Set(modules.map((m) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(m)?.[1]).filter(Boolean))].sort();
    assert.deepEqual(packages(run.modules), packages(unbundled.modules), 'the same packages as the modules');
  });

  test('runs list does not load the runner: no executor, no callback server', async () => {
    const result = await cliModules(['runs', 'list', '--db', join(dir, 'none.db')]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      result.modules.filter((m) => /\/dist\/(executor|protocol|engine)\//.test(m)),
      [],
    );
  });
});
