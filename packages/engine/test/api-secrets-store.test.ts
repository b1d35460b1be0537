import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSecretCipher } from '../src/service/secret-cipher.js';
import { createSecretService } from '../src/service/secret-service.js';
import type { StoreHarness } from './store-suite/harness.js';
import { onEachDialect } from './store-suite/on-each-dialect.js';

// The secret, webhook-delivery and cron-claim stores, on every dialect.
function triggerStoreCases(h: StoreHarness): void {
  test('secrets: put creates then replaces (createdAt kept), lists by scope, deletes', async (t) => {
    const store = await h.fresh(t);
    assert.equal(
      await store.secrets.put({ scope: 'global', name: 'A', ciphertext: 'c1', updatedAt: 10, updatedBy: 'x' }),
      true,
    );
    assert.equal(
      await store.secrets.put({ scope: 'global', name: 'A', ciphertext: 'c2', updatedAt: 20, updatedBy: 'y' }),
      false,
    );
    await store.secrets.put({ scope: 'workflow:w', name: 'A', ciphertext: 'c3', updatedAt: 30, updatedBy: null });
    await store.secrets.put({ scope: 'workflow:v', name: 'B', ciphertext: 'c4', updatedAt: 40, updatedBy: null });
    assert.deepEqual(await store.secrets.get('global', 'A'), {
      scope: 'global',
      name: 'A',
      ciphertext: 'c2',
      createdAt: 10,
      updatedAt: 20,
      updatedBy: 'y',
    });
    assert.deepEqual(
      (await store.secrets.list(['global', 'workflow:w'])).map((s) => `${s.scope}/${s.name}`),
      ['global/A', 'workflow:w/A'],
    );
    assert.equal((await store.secrets.list()).length, 3);
    assert.deepEqual(await store.secrets.list([]), []);
    assert.equal(await store.secrets.delete('workflow:w', 'A'), true);
    assert.equal(await store.secrets.delete('workflow:w', 'A'), false);
    assert.equal(await store.secrets.get('workflow:w', 'A'), undefined);
  });

  test('secret service: values stored encrypted, decrypted for runs, wrong key refused', async (t) => {
    const store = await h.fresh(t);
    const service = createSecretService({ store: store.secrets, cipher: createSecretCipher('key-one') });
    await service.set({ name: 'TOKEN', value: 'global-token-value', by: 'admin' });
    await service.set({ name: 'TOKEN', value: 'own-token-value', workflow: 'deploy', by: 'admin' });
    await service.set({ name: 'OTHER', value: 'other-value', workflow: 'build', by: 'admin' });
    const raw = await store.secrets.get('global', 'TOKEN');
    assert.ok(raw && !raw.ciphertext.includes('global-token-value') && raw.ciphertext.startsWith('v1.'));
    assert.deepEqual(await service.secretsFor('deploy'), { TOKEN: 'own-token-value' });
    assert.deepEqual(await service.secretsFor('build'), { TOKEN: 'global-token-value', OTHER: 'other-value' });
    assert.equal(service.mask('a global-token-value and own-token-value'), 'a *** and ***');

    const wrongKey = createSecretService({ store: store.secrets, cipher: createSecretCipher('key-two') });
    await assert.rejects(wrongKey.secretsFor('deploy'), /another encryption key/);
    assert.deepEqual(await wrongKey.refresh(), ['global/TOKEN', 'workflow:build/OTHER', 'workflow:deploy/TOKEN']);
    // a ciphertext moved to another secret's row does not decrypt (bound to scope and name)
    await store.secrets.put({ ...raw, name: 'MOVED' });
    await assert.rejects(service.secretsFor('anything'), /cannot decrypt secret global\/MOVED/);
    // a fresh service masks what is stored once refreshed
    await store.secrets.delete('global', 'MOVED');
    const restarted = createSecretService({ store: store.secrets, cipher: createSecretCipher('key-one') });
    assert.equal(restarted.mask('other-value'), 'other-value');
    assert.deepEqual(await restarted.refresh(), []);
    assert.equal(restarted.mask('other-value "own-token-value"'), '*** "***"');
  });

  test('webhook deliveries: one claim wins, even from two connections at once; expired claims are replaced', async (t) => {
    const url = await h.freshUrl();
    const [one, two] = [await h.open(t, url), await h.open(t, url)];
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 === 0 ? one : two).webhookDeliveries.claim('w', 'github', 'd-1', 1000, 60_000),
      ),
    );
    assert.equal(results.filter(Boolean).length, 1);
    await one.webhookDeliveries.setRun('w', 'github', 'd-1', 'run-1');
    assert.deepEqual(await two.webhookDeliveries.get('w', 'github', 'd-1'), {
      workflow: 'w',
      provider: 'github',
      deliveryId: 'd-1',
      receivedAt: 1000,
      runId: 'run-1',
    });
    assert.equal(await one.webhookDeliveries.claim('w', 'gitlab', 'd-1', 1000, 60_000), true, 'per provider');
    assert.equal(await one.webhookDeliveries.claim('w', 'github', 'd-1', 61_000, 60_000), true, 'past the window');
    assert.equal((await one.webhookDeliveries.get('w', 'github', 'd-1'))?.runId, null);
    await one.webhookDeliveries.release('w', 'github', 'd-1');
    assert.equal(await one.webhookDeliveries.get('w', 'github', 'd-1'), undefined);
    assert.equal(await one.webhookDeliveries.purge(5000), 1);
  });

  test('cron claims: one claimer per tick across connections; list and purge', async (t) => {
    const url = await h.freshUrl();
    const [one, two] = [await h.open(t, url), await h.open(t, url)];
    const claim = (tickAt: number, claimedBy: string) => ({
      workflow: 'w',
      triggerIndex: 0,
      tickAt,
      claimedBy,
      claimedAt: 5,
    });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? one : two).cronClaims.claim(claim(1000, `e${i}`))),
    );
    assert.equal(results.filter(Boolean).length, 1);
    assert.equal(await one.cronClaims.claim({ ...claim(1000, 'x'), triggerIndex: 1 }), true, 'per trigger');
    assert.equal(await two.cronClaims.claim(claim(2000, 'b')), true);
    await one.cronClaims.setRun('w', 0, 2000, 'run-2');
    const list = await two.cronClaims.list('w');
    assert.deepEqual(
      list.map((c) => [c.triggerIndex, c.tickAt, c.runId]),
      [
        [0, 1000, null],
        [1, 1000, null],
        [0, 2000, 'run-2'],
      ],
    );
    assert.equal(await one.cronClaims.purge(1500), 2);
    assert.equal((await one.cronClaims.list('w')).length, 1);
  });
}

function onDialect(name: string, h: StoreHarness): void {
  describe(name, () => {
    before(() => h.setup());
    after(() => h.teardown());
    triggerStoreCases(h);
  });
}

await onEachDialect('trigger and secret stores', onDialect);
