import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { PilotageError } from '../src/domain/errors.js';
import { assertValidRunEvent } from '../src/events/run-event-check.js';
import { validateCdevent } from '../src/events/validate.js';
import { GENERATED_FILE, generateRunEventValidators } from '../../../scripts/generate-run-event-validators.mjs';
import { clone, coreExamples, sharedMissing } from './events-fixtures.js';

/** The issues assertValidRunEvent reports (none when valid). */
function checked(event: any): unknown[] {
  try {
    assertValidRunEvent(event);
    return [];
  } catch (error) {
    assert.ok(error instanceof PilotageError && error.code === 'INTERNAL', String(error));
    return error.details as unknown[];
  }
}

describe('the precompiled validators of the engine-built events (scripts/generate-run-event-validators.mjs)', () => {
  test('the committed file is what the generator makes from the vendored schemas', async () => {
    assert.equal(await readFile(GENERATED_FILE, 'utf8'), generateRunEventValidators(), 'stale: regenerate it');
  });

  test(
    'they judge every run event as the runtime validator does, formats by their shape only: conformance examples and broken copies',
    { skip: sharedMissing },
    () => {
      const examples = coreExamples().filter((e) => /^(pipelinerun|taskrun)_/.test(e.file));
      assert.equal(examples.length, 5);
      for (const { file, doc } of examples) {
        assert.deepEqual(checked(doc), [], file);
        const broken: Record<string, (d: any) => void> = {
          'no id': (d) => delete d.context.id,
          'empty chainId': (d) => (d.context.chainId = ''),
          'a timestamp that is no date-time': (d) => (d.context.timestamp = 'yesterday'),
          'a source that is no URI reference': (d) => (d.context.source = 'not a uri'),
          'an unknown key in the subject': (d) => (d.subject.surprise = 1),
        };
        for (const [what, breakIt] of Object.entries(broken)) {
          const copy = clone(doc);
          breakIt(copy);
          const runtime = validateCdevent(copy);
          assert.equal(runtime.ok, false, `${file}, ${what}: the runtime validator refuses it`);
          assert.deepEqual(checked(copy), runtime.ok ? [] : runtime.errors, `${file}, ${what}`);
        }
        // ajv-formats' fast formats (scripts/generate-run-event-validators.mjs): a URI's shape, not
        // every rule of RFC 3986, which the runtime validator of received events applies
        const finer = clone(doc);
        finer.context.source = 'http://[bad';
        assert.equal(validateCdevent(finer).ok, false, `${file}: received, an unclosed IP literal is refused`);
        assert.deepEqual(checked(finer), [], `${file}: built by the engine, its shape passes`);
      }
    },
  );

  test('an event of another type is refused as a bug', () => {
    assert.throws(
      () => assertValidRunEvent({ context: { type: 'dev.cdevents.artifact.published.0.2.0' } }),
      (error: unknown) => error instanceof PilotageError && error.code === 'INTERNAL',
    );
  });
});
