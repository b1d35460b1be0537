import assert from 'node:assert/strict';
import { test } from 'node:test';
import { celEnvironmentFor, type CelDeclaration } from './cel-environment.js';

/** How many object types an environment holds: each registered type adds one `type(T)` overload. */
function typeCount(declarations: Record<string, CelDeclaration>): number {
  const { env } = celEnvironmentFor(declarations);
  return env.getDefinitions().functions.filter((f) => f.name === 'type').length;
}

const action = (outputs: CelDeclaration): CelDeclaration => ({ outputs, status: 'string' });

test('object shapes are registered once, whatever number of actions share them', () => {
  const few: Record<string, CelDeclaration> = {};
  const many: Record<string, CelDeclaration> = {};
  for (let i = 0; i < 3; i++) few[`a${i}`] = action({ commit: 'string' });
  for (let i = 0; i < 3000; i++) many[`a${i}`] = action(i % 2 === 0 ? { commit: 'string' } : 'map<string, dyn>');
  const base = typeCount({ run: 'map<string, dyn>' });
  // `$actions`, the action shape and the outputs shape
  assert.equal(typeCount({ actions: few }) - base, 3);
  // plus one action shape with open outputs
  assert.equal(typeCount({ actions: many }) - base, 4);
});

test('expressions are typed by their action, and messages write shapes out', () => {
  const checking = celEnvironmentFor({
    actions: { build: action({ commit: 'string', size: 'int' }), test: action('map<string, dyn>') },
  });
  const check = (source: string) => checking.env.parse(source).check();
  assert.equal(check('actions.build.outputs.size + 1').type, 'int');
  assert.equal(check('actions.test.outputs.anything').type, 'dyn');
  const wrong = check('actions.build.outputs + 1');
  assert.equal(wrong.valid, false);
  assert.equal(
    checking.readable(wrong.error!.message.split('\n')[0]!),
    'no such overload: {commit: string, size: int} + int',
  );
  assert.equal(check('actions.build.outputs.nope').valid, false);
});

test('odd field names are quoted in shapes and keep shapes apart', () => {
  const checking = celEnvironmentFor({
    a: { x: { 'b,c': 'int' } },
    b: { x: { b: 'int', c: 'int' } },
  });
  const check = (source: string) => checking.env.parse(source).check();
  assert.equal(check('a.x["b,c"] + 1').type, 'int');
  assert.equal(check('b.x.b + b.x.c').type, 'int');
  const wrong = check('a.x + 1');
  assert.equal(checking.readable(wrong.error!.message.split('\n')[0]!), 'no such overload: {"b,c": int} + int');
});
