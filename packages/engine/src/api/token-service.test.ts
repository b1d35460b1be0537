import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore } from '../store/open-store.js';
import { TOKEN_TOUCH_INTERVAL_MS, type ApiTokenStore } from '../store/types.js';
import { createTokenService } from './token-service.js';

test("a token's use is written at most once per interval, and a use within it costs no statement", async (t) => {
  const store = await openStore({ url: ':memory:' });
  t.after(() => store.close());
  const touches: number[] = [];
  const tokens: ApiTokenStore = {
    create: (token) => store.apiTokens.create(token),
    getByHash: (hash) => store.apiTokens.getByHash(hash),
    list: () => store.apiTokens.list(),
    revoke: (id, at) => store.apiTokens.revoke(id, at),
    count: () => store.apiTokens.count(),
    touch: (id, at) => {
      touches.push(at);
      return store.apiTokens.touch(id, at);
    },
  };
  let now = 1_000_000;
  const service = createTokenService(tokens, () => now);
  const { token } = await service.issue({ name: 'ci', scopes: ['run'] });
  await service.authorize(token, 'run');
  assert.deepEqual(touches, [1_000_000], 'the first use is written');
  now += TOKEN_TOUCH_INTERVAL_MS - 1;
  await service.authorize(token, 'read');
  assert.deepEqual(touches, [1_000_000], 'a use within the interval: no write asked for');
  now += 2;
  await service.authorize(token, 'run');
  assert.deepEqual(touches, [1_000_000, 1_000_000 + TOKEN_TOUCH_INTERVAL_MS + 1]);
  const [record] = await store.apiTokens.list();
  assert.equal(record?.lastUsedAt, 1_000_000 + TOKEN_TOUCH_INTERVAL_MS + 1, 'and the store has it');
});
