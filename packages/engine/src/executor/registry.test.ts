import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecutorRegistry } from './registry.js';
import { createLocalExecutor } from './local/local-executor.js';

describe('ExecutorRegistry', () => {
  test('creates a registered executor with its options', async () => {
    const seen: unknown[] = [];
    const registry = new ExecutorRegistry().register('local', (options) => {
      seen.push(options);
      return createLocalExecutor({ killGraceMs: Number(options['killGraceMs'] ?? 5000) });
    });
    const executor = await registry.create('local', { killGraceMs: 100 });
    assert.equal(executor.name, 'local');
    assert.deepEqual(seen, [{ killGraceMs: 100 }]);
    await registry.create('local');
    assert.deepEqual(seen[1], {});
    assert.equal(registry.has('local'), true);
    assert.equal(registry.has('docker'), false);
    await executor.close();
  });

  test('unknown names list the known ones; duplicates are refused', async () => {
    const registry = new ExecutorRegistry()
      .register('local', () => createLocalExecutor())
      .register('fake', () => createLocalExecutor());
    assert.deepEqual(registry.names(), ['fake', 'local']);
    await assert.rejects(registry.create('kubernetes'), {
      code: 'CONFIG',
      message: "unknown executor 'kubernetes'; known: fake, local",
    });
    assert.throws(() => registry.register('local', () => createLocalExecutor()), { code: 'CONFIG' });
    await assert.rejects(new ExecutorRegistry().create('x'), { message: /\(none registered\)/ });
  });

  test("a factory's own error passes through", async () => {
    const registry = new ExecutorRegistry().register('broken', async () => {
      throw new Error('docker socket missing');
    });
    await assert.rejects(registry.create('broken'), { message: 'docker socket missing' });
  });
});
