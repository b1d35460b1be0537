import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '../src/domain/ids.js';
import type { JsonValue } from '../src/domain/vocabulary.js';
import { cipherInputSeal } from '../src/service/input-seal.js';
import { createSecretCipher } from '../src/service/secret-cipher.js';
import { createHarness, type Harness } from './support/harness.js';

/**
 * A run's inputs are stored with its secrets masked; the engine keeps them sealed besides, so that
 * a run resumed by a later engine process (and a rerun, test/secret-inputs.test.ts) gets them as
 * they were sent rather than `***`.
 */
const KEY = 'test-encryption-key';
const SECRET = 'sealed-secret-value-42';
const WORKFLOW = `name: sealed
inputs: { type: object, properties: { token: { type: string } } }
stages:
  - name: s
    actions:
      - name: check
        with: { token: "\${{ inputs.token }}" }
        run: '[ "$CO_INPUT_TOKEN" = "${SECRET}" ] || { echo "got the masked value"; exit 1; }'
`;

describe('sealed run inputs', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({
      executor: 'local',
      config: { encryptionKey: KEY },
      runtime: { secrets: { TOKEN: SECRET } },
    });
  });
  after(async () => h.close());

  test('a started run stores its inputs masked and sealed; inputsOf opens them', async () => {
    const run = await h.start(WORKFLOW, { token: SECRET });
    assert.deepEqual(run.inputs, { token: '***' });
    const sealed = await h.runtime.store.runs.sealedInputs(run.id);
    assert.ok(sealed !== undefined && !sealed.includes(SECRET), 'sealed, not in the clear');
    assert.deepEqual(await h.runtime.engine.inputsOf(run), { token: SECRET });
    assert.equal((await h.runtime.engine.waitForRun(run.id)).state, 'succeeded');
    const plain = await h.start(WORKFLOW.replace(`= "${SECRET}"`, '= "public"'), { token: 'public' });
    assert.equal(await h.runtime.store.runs.sealedInputs(plain.id), undefined, 'nothing to seal: nothing was masked');
    await h.runtime.engine.waitForRun(plain.id);
  });

  test('a run a previous process left queued resumes with its inputs as sent', async () => {
    const plan = await h.plan(WORKFLOW);
    const id = newId();
    const seal = cipherInputSeal(createSecretCipher(KEY));
    await h.runtime.store.runs.create({
      id,
      workflow: 'sealed',
      inputs: { token: '***' },
      sealedInputs: seal.seal(id, { token: SECRET }),
      plan: plan as unknown as JsonValue,
      trigger: { kind: 'manual' },
      chainId: newId(),
      createdAt: Date.now(),
    });
    const resumed = await h.runtime.engine.recover();
    assert.deepEqual(
      resumed.map((r) => r.id),
      [id],
    );
    const run = await h.runtime.engine.waitForRun(id);
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    assert.deepEqual(run.inputs, { token: '***' }, 'still stored masked');
  });

  test('a seal bound to another run does not open: the masked inputs are used, with a warning', async () => {
    const seal = cipherInputSeal(createSecretCipher(KEY));
    assert.throws(() => seal.open(newId(), seal.seal(newId(), { token: SECRET })), /cannot decrypt/);
  });
});
