import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from './support/cli.js';
import { createHarness, type Harness } from './support/harness.js';

// `build` writes a fresh random stamp into dist/ and reports it; `check` (never cached) proves
// the workspace holds the stamp build reported, in this run's fresh workspace
const WORKFLOW = `apiVersion: pilotage.dev/v1
kind: Workflow
name: cached-build
stages:
  - name: build
    actions:
      - name: build
        run: |
          mkdir -p dist/sub
          stamp=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
          echo "$stamp" > dist/sub/stamp
          echo "[COUT] stamp=$stamp"
        cache: { paths: [dist] }
  - name: check
    actions:
      - name: check
        with: { stamp: "\${{ actions.build.outputs.stamp }}" }
        run: 'test "$(cat dist/sub/stamp)" = "$CO_INPUT_STAMP"'
`;

interface ShownTask {
  readonly action: string;
  readonly state: string;
  readonly reason: string | null;
  readonly output: Record<string, string>;
  readonly facts: Record<string, string>;
  readonly startedAt: number | null;
}

/** The action result cache, through the CLI as a user drives it: real processes, a SQLite file. */
describe('action cache through pilotage run and pilotage cache', () => {
  let dir = '';
  let env: Record<string, string> = {};
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-cache-'));
    env = { PILOTAGE_DATA_DIR: dir, PILOTAGE_DB: join(dir, 'pilotage.db') };
    await writeFile(join(dir, 'workflow.yaml'), WORKFLOW);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function runOnce(): Promise<{ id: string; build: ShownTask; check: ShownTask }> {
    const ran = await runCli(['run', join(dir, 'workflow.yaml'), '--json', '--no-logs'], { env });
    assert.equal(ran.code, 0, ran.stderr + ran.stdout);
    const summary = ran.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { run?: { id: string }; tasks?: ShownTask[] })
      .find((line) => line.tasks !== undefined)!;
    const byName = (name: string) => summary.tasks!.find((t) => t.action === name)!;
    return { id: summary.run!.id, build: byName('build'), check: byName('check') };
  }

  test('a cached action is skipped on the second run, its files restored and its outputs identical; re-run after cache clear', async () => {
    const first = await runOnce();
    assert.equal(first.build.state, 'succeeded');
    assert.equal(first.build.reason, null);
    assert.equal(first.check.state, 'succeeded');

    const second = await runOnce();
    assert.equal(second.build.state, 'succeeded');
    assert.equal(second.build.reason, `cached from run ${first.id}`);
    assert.deepEqual(second.build.output, first.build.output, 'the same outputs');
    assert.ok(second.build.facts.cachedFrom && second.build.facts.cacheKey);
    assert.equal(second.check.state, 'succeeded', 'the restored dist/ holds the stamp build reported');

    const listed = await runCli(['cache', 'list', '--json'], { env });
    const entries = JSON.parse(listed.stdout).entries as {
      workflow: string;
      action: string;
      runId: string;
      paths: string[];
    }[];
    assert.deepEqual(
      entries.map((e) => [e.workflow, e.action, e.runId, e.paths]),
      [['cached-build', 'build', first.id, ['dist']]],
    );

    const cleared = await runCli(['cache', 'clear'], { env });
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.equal(cleared.stdout.trim(), 'removed 1 cache entry');

    const third = await runOnce();
    assert.equal(third.build.reason, null, 'after cache clear the action runs for real');
    assert.notDeepEqual(third.build.output, first.build.output, 'a new stamp');
    assert.equal(third.check.state, 'succeeded');
  });
});

/** The cache inside one engine and between two sharing a store: real processes, SQLite. */
describe('action cache on the local executor', { concurrency: false }, () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ executor: 'local' });
  });
  after(async () => {
    await h?.close();
  });

  test('a failed attempt is never cached; the next success is', async () => {
    const flag = join(h.dir, 'works');
    const yaml = `name: flaky-cached
stages:
  - name: one
    actions:
      - name: maybe
        run: 'test -f ${flag} && echo "[COUT] ok=yes"'
        cache: true
`;
    const first = await h.run(yaml);
    assert.equal(first.byAction.get('maybe')!.state, 'failed');
    await writeFile(flag, '');
    const second = await h.run(yaml);
    assert.equal(second.byAction.get('maybe')!.state, 'succeeded');
    assert.equal(second.byAction.get('maybe')!.reason, null, 'not cached from the failure');
    const third = await h.run(yaml);
    assert.equal(third.byAction.get('maybe')!.reason, `cached from run ${second.run.id}`);
  });

  test('the derived key follows the event data; each combination of a matrix has its own entry', async () => {
    const yaml = (extra: string) => `name: keyed
stages:
  - name: one
    actions:
      - name: per-target
        matrix: { target: [a, b${extra}] }
        with: { target: "\${{ matrix.target }}" }
        run: 'echo "[COUT] built=$CO_INPUT_TARGET"'
        cache: true
`;
    const first = await h.run(yaml(''));
    assert.ok(first.tasks.every((t) => t.reason === null));
    const second = await h.run(yaml(', c'));
    const reasons = second.tasks.map((t) => [t.action, t.reason, t.output]).sort();
    assert.deepEqual(reasons, [
      ['per-target (a)', `cached from run ${first.run.id}`, { built: 'a' }],
      ['per-target (b)', `cached from run ${first.run.id}`, { built: 'b' }],
      ['per-target (c)', null, { built: 'c' }],
    ]);
  });

  test('an explicit key: a hit across changed event data; a key holding a secret is refused', async () => {
    const yaml = `name: explicit-key
inputs: { type: object, properties: { v: { type: string }, k: { type: string, default: fixed } } }
stages:
  - name: one
    actions:
      - name: keyed
        with: { v: "\${{ inputs.v }}" }
        run: 'echo "[COUT] v=$CO_INPUT_V"'
        cache: { key: "deps-\${{ inputs.k }}" }
`;
    const first = await h.run(yaml, { v: 'one' });
    const second = await h.run(yaml, { v: 'two' });
    assert.equal(second.byAction.get('keyed')!.reason, `cached from run ${first.run.id}`);
    assert.deepEqual(second.byAction.get('keyed')!.output, { v: 'one' }, 'the key decides, not the data');

    const plan = await h.plan(yaml);
    const started = await h.runtime.engine.startRun(
      plan,
      { v: 'x', k: 'hunter2-secret' },
      {
        trigger: { kind: 'manual' },
        secrets: { TOKEN: 'hunter2-secret' },
      },
    );
    const refused = await h.runtime.engine.waitForRun(started.id);
    const task = (await h.runtime.store.taskRuns.listByRun(refused.id))[0]!;
    assert.equal(task.state, 'errored');
    assert.equal(task.reason, 'cache.key holds the value of a secret: refused');
  });

  test('two engines sharing the store and the cache folder share entries; without the folder it is a miss', async () => {
    const other = await createHarness({
      executor: 'local',
      config: { db: h.runtime.config.db, cacheDir: h.runtime.config.cacheDir },
    });
    const apart = await createHarness({ executor: 'local', config: { db: h.runtime.config.db } });
    try {
      const yaml = `name: shared-cache
stages:
  - name: one
    actions:
      - name: make
        run: 'mkdir -p out && echo made > out/file && echo "[COUT] made=yes"'
        cache: { paths: [out] }
`;
      const first = await h.run(yaml);
      assert.equal(first.byAction.get('make')!.reason, null);
      const shared = await other.run(yaml);
      assert.equal(shared.byAction.get('make')!.reason, `cached from run ${first.run.id}`);
      const elsewhere = await apart.run(yaml);
      assert.equal(elsewhere.byAction.get('make')!.reason, null, 'its files are not in this cache folder');
    } finally {
      await other.close();
      await apart.close();
    }
  });
});
