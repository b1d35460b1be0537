import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ComponentVersionRecord, Store } from '../src/store/types.js';
import type { StoreHarness } from './store-suite/harness.js';
import { onEachDialect } from './store-suite/on-each-dialect.js';

// The component registry and the workflow store, on every dialect (as store.test.ts).

function component(
  name: string,
  version: string,
  description = `${name} does things`,
): Omit<ComponentVersionRecord, 'deprecated' | 'deprecationMessage'> {
  return {
    name,
    version,
    spec: { apiVersion: 'pilotage.dev/v1', kind: 'Component', name, version, description, command: ['true'] },
    source: `name: ${name}\nversion: ${version}\n`,
    createdAt: 1_700_000_000_000,
    createdBy: 'tester',
  };
}

async function register(store: Store, name: string, versions: string[]): Promise<void> {
  for (const version of versions) await store.components.register(component(name, version));
}

function apply(store: Store, name: string, source: string, at = 1_700_000_000_000) {
  return store.workflows.apply({
    name,
    source,
    digest: `digest-of-${source}`,
    planJson: JSON.stringify({ name, stages: [{ name: 's', actions: [] }], source }),
    at,
    by: 'tester',
  });
}

function registryCases(h: StoreHarness): void {
  describe('components', () => {
    test('register stores a version that get returns intact; unknown versions are undefined', async (t) => {
      const store = await h.fresh(t);
      const input = { ...component('git-clone', '1.2.0'), dir: '/srv/components/git-clone' };
      await store.components.register(input);
      assert.deepEqual(await store.components.get('git-clone', '1.2.0'), {
        ...input,
        deprecated: false,
        deprecationMessage: null,
      });
      assert.equal(await store.components.get('git-clone', '1.2.1'), undefined);
      assert.equal(await store.components.get('nothing', '1.2.0'), undefined);
      await store.components.register(component('other', '1.0.0'));
      assert.equal((await store.components.get('other', '1.0.0'))?.dir, null);
    });

    test('a version is immutable: registering it again is CONFLICT and keeps the first', async (t) => {
      const store = await h.fresh(t);
      await store.components.register(component('git-clone', '1.2.0', 'first'));
      await assert.rejects(store.components.register(component('git-clone', '1.2.0', 'second')), {
        code: 'CONFLICT',
        message: /git-clone@1\.2\.0 is already registered/,
      });
      assert.equal((await store.components.get('git-clone', '1.2.0'))?.spec.description, 'first');
    });

    test('versions lists newest first by semver precedence, not text order', async (t) => {
      const store = await h.fresh(t);
      await register(store, 'build', [
        '1.9.0',
        '1.10.0',
        '1.0.0-rc.1',
        '1.0.0',
        '0.2.0',
        '2.0.0-beta.2',
        '2.0.0-beta.10',
      ]);
      await register(store, 'other', ['5.0.0']);
      assert.deepEqual(
        (await store.components.versions('build')).map((v) => v.version),
        ['2.0.0-beta.10', '2.0.0-beta.2', '1.10.0', '1.9.0', '1.0.0', '1.0.0-rc.1', '0.2.0'],
      );
      assert.deepEqual(await store.components.versions('nothing'), []);
    });

    test('deprecate marks one version with its message; false for an unknown one', async (t) => {
      const store = await h.fresh(t);
      await register(store, 'build', ['1.0.0', '1.1.0']);
      assert.equal(await store.components.deprecate('build', '1.1.0', 'broken, use 1.0.0'), true);
      assert.equal(await store.components.deprecate('build', '9.9.9', null), false);
      assert.equal(await store.components.deprecate('nothing', '1.0.0', null), false);
      const deprecated = await store.components.get('build', '1.1.0');
      assert.equal(deprecated?.deprecated, true);
      assert.equal(deprecated?.deprecationMessage, 'broken, use 1.0.0');
      assert.equal((await store.components.get('build', '1.0.0'))?.deprecated, false);
    });

    test('list gives the newest non-deprecated version of each component, by name', async (t) => {
      const store = await h.fresh(t);
      await register(store, 'zeta', ['1.0.0', '1.10.0', '1.9.0']);
      await register(store, 'alpha', ['0.1.0', '0.2.0']);
      await register(store, 'gone', ['1.0.0']);
      await store.components.deprecate('alpha', '0.2.0', null);
      await store.components.deprecate('gone', '1.0.0', 'retired');
      const brief = (list: ComponentVersionRecord[]) => list.map((c) => `${c.name}@${c.version}`);
      assert.deepEqual(brief(await store.components.list()), ['alpha@0.1.0', 'zeta@1.10.0']);
      assert.deepEqual(brief(await store.components.list({ includeDeprecated: true })), [
        'alpha@0.2.0',
        'gone@1.0.0',
        'zeta@1.10.0',
      ]);
    });

    test('list searches name and description case-insensitively, with LIKE characters taken literally', async (t) => {
      const store = await h.fresh(t);
      await store.components.register(component('git-clone', '1.0.0', 'Clones a Git repository'));
      await store.components.register(component('notify', '1.0.0', 'Posts to Slack at 100% volume'));
      await store.components.register(component('under_score', '1.0.0', 'nothing special'));
      const names = async (query: string) => (await store.components.list({ query })).map((c) => c.name);
      assert.deepEqual(await names('GIT'), ['git-clone']);
      assert.deepEqual(await names('slack'), ['notify']);
      assert.deepEqual(await names('100%'), ['notify']);
      assert.deepEqual(await names('%'), ['notify']);
      assert.deepEqual(await names('_'), ['under_score']);
      assert.deepEqual(await names('nope'), []);
      assert.deepEqual(await names(''), ['git-clone', 'notify', 'under_score']);
    });
  });

  describe('workflows', () => {
    test('apply creates the workflow enabled at version 1, then numbers new texts 2, 3', async (t) => {
      const store = await h.fresh(t);
      const first = await apply(store, 'build', 'text one', 1000);
      assert.equal(first.created, true);
      assert.deepEqual(first.version, {
        name: 'build',
        version: 1,
        source: 'text one',
        digest: 'digest-of-text one',
        createdAt: 1000,
        createdBy: 'tester',
      });
      assert.deepEqual((await store.workflows.getVersion('build', 1))?.plan, {
        name: 'build',
        stages: [{ name: 's', actions: [] }],
        source: 'text one',
      });
      assert.deepEqual(await store.workflows.get('build'), {
        name: 'build',
        enabled: true,
        latestVersion: 1,
        createdAt: 1000,
        updatedAt: 1000,
      });
      assert.equal((await apply(store, 'build', 'text two', 2000)).version.version, 2);
      assert.equal((await apply(store, 'build', 'text three', 3000)).version.version, 3);
      const record = await store.workflows.get('build');
      assert.equal(record?.latestVersion, 3);
      assert.equal(record?.createdAt, 1000);
      assert.equal(record?.updatedAt, 3000);
      assert.deepEqual(await store.workflows.getVersion('build', 2), {
        name: 'build',
        version: 2,
        source: 'text two',
        digest: 'digest-of-text two',
        plan: { name: 'build', stages: [{ name: 's', actions: [] }], source: 'text two' },
        createdAt: 2000,
        createdBy: 'tester',
      });
    });

    test('a version read again comes from memory, frozen (versions never change; a run start reads its own twice)', async (t) => {
      const store = await h.fresh(t);
      await apply(store, 'build', 'text one', 1000);
      const first = await store.workflows.getVersion('build', 1);
      const again = await store.workflows.getVersion('build', 1);
      assert.ok(first !== undefined);
      assert.equal(again, first, 'the same record, not a second read');
      assert.ok(Object.isFrozen(first) && Object.isFrozen(first.plan), 'shared, so frozen');
      assert.deepEqual(first.plan, { name: 'build', stages: [{ name: 's', actions: [] }], source: 'text one' });
      assert.equal(await store.workflows.getVersion('build', 2), undefined, 'a version not applied yet is not cached');
      await apply(store, 'build', 'text two', 2000);
      assert.equal((await store.workflows.getVersion('build', 2))?.source, 'text two');
    });

    test('applying the latest text again writes nothing; an older text makes a new version', async (t) => {
      const store = await h.fresh(t);
      await apply(store, 'build', 'a', 1000);
      await apply(store, 'build', 'b', 2000);
      const again = await apply(store, 'build', 'b', 3000);
      assert.equal(again.created, false);
      assert.equal(again.version.version, 2);
      assert.equal(again.version.createdAt, 2000);
      assert.equal((await store.workflows.get('build'))?.updatedAt, 2000);
      const back = await apply(store, 'build', 'a', 4000);
      assert.deepEqual([back.created, back.version.version], [true, 3]);
    });

    test('concurrent applies get distinct consecutive versions; identical ones make one', async (t) => {
      const store = await h.fresh(t);
      const distinct = await Promise.all(Array.from({ length: 12 }, (_, i) => apply(store, 'many', `text ${i}`)));
      assert.deepEqual(
        distinct.map((r) => r.version.version).sort((a, b) => a - b),
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
      const same = await Promise.all(Array.from({ length: 8 }, () => apply(store, 'same', 'one text')));
      assert.equal(same.filter((r) => r.created).length, 1);
      assert.ok(same.every((r) => r.version.version === 1));
      assert.equal((await store.workflows.versions('same')).length, 1);
    });

    test('versions lists newest first; list gives every workflow by name', async (t) => {
      const store = await h.fresh(t);
      await apply(store, 'zeta', 'z1');
      await apply(store, 'alpha', 'a1');
      await apply(store, 'alpha', 'a2');
      assert.deepEqual(
        (await store.workflows.versions('alpha')).map((v) => [v.version, v.source]),
        [
          [2, 'a2'],
          [1, 'a1'],
        ],
      );
      assert.deepEqual(await store.workflows.versions('nothing'), []);
      assert.deepEqual(
        (await store.workflows.list()).map((w) => [w.name, w.latestVersion]),
        [
          ['alpha', 2],
          ['zeta', 1],
        ],
      );
      assert.equal(await store.workflows.get('nothing'), undefined);
      assert.equal(await store.workflows.getVersion('alpha', 3), undefined);
    });

    test('setEnabled flips the flag and keeps versions; false for an unknown workflow', async (t) => {
      const store = await h.fresh(t);
      await apply(store, 'build', 'a', 1000);
      assert.equal(await store.workflows.setEnabled('build', false, 5000), true);
      assert.deepEqual(await store.workflows.get('build'), {
        name: 'build',
        enabled: false,
        latestVersion: 1,
        createdAt: 1000,
        updatedAt: 5000,
      });
      await apply(store, 'build', 'b', 6000);
      assert.equal((await store.workflows.get('build'))?.enabled, false, 'applying keeps it disabled');
      assert.equal(await store.workflows.setEnabled('build', true, 7000), true);
      assert.equal((await store.workflows.get('build'))?.enabled, true);
      assert.equal(await store.workflows.setEnabled('nothing', true, 7000), false);
    });

    test('the version survives a reopen of the store', async (t) => {
      const url = await h.freshUrl();
      const first = await h.open(t, url);
      await apply(first, 'build', 'persisted');
      await first.components.register(component('kept', '1.0.0'));
      await first.close();
      const second = await h.open(t, url);
      assert.equal((await second.workflows.getVersion('build', 1))?.source, 'persisted');
      assert.equal((await second.components.get('kept', '1.0.0'))?.version, '1.0.0');
    });
  });
}

function onDialect(name: string, h: StoreHarness): void {
  describe(name, () => {
    before(() => h.setup());
    after(() => h.teardown());
    registryCases(h);
  });
}

await onEachDialect('registry store', onDialect);
