import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import { expressionOf } from './data-map';
import {
  addAction,
  addStage,
  moveStage,
  newWorkflowText,
  readWorkflow,
  removeAction,
  removeStage,
  renameAction,
  renameProblem,
  renameStage,
  setActionField,
  setWith,
  uniqueName,
} from './workflow-doc';

const source = `# the release pipeline
apiVersion: pilotage.dev/v1
kind: Workflow
name: release # keep this name
stages:
  - name: build
    actions:
      - name: compile
        component: producer@1.0.0
        with: { lines: 10 }
  - name: deploy
    actions:
      - name: ship
        component: consumer@1.0.0
triggers:
  - cron: "0 3 * * *"
`;

function model(text: string) {
  const read = readWorkflow(text);
  if (!('model' in read)) throw new Error(read.problem.message);
  return read.model;
}

describe('YAML ⇄ graph', () => {
  test('reading a workflow gives its stages and actions in order', () => {
    const m = model(source);
    expect(m.name).toBe('release');
    expect(m.stages.map((s) => [s.name, s.type, s.actions.map((a) => a.name)])).toEqual([
      ['build', 'actions', ['compile']],
      ['deploy', 'actions', ['ship']],
    ]);
    expect(m.stages[0]!.actions[0]).toMatchObject({ component: 'producer@1.0.0', with: { lines: 10 } });
  });

  test('graph edits come back as YAML that reads as the edited graph, comments and other keys kept', () => {
    let text = addStage(source, 'test', 1);
    const added = addAction(text, 1, 'producer@1.0.0');
    text = added.source;
    expect(added.name).toBe('producer');
    text = setWith(text, 'ship', 'version', expressionOf({ action: 'compile', field: 'version' }));
    text = setActionField(text, 'ship', 'retries', 2);
    text = setActionField(text, 'ship', 'if', "inputs.target == 'prod'");
    const m = model(text);
    expect(m.stages.map((s) => s.name)).toEqual(['build', 'test', 'deploy']);
    expect(m.stages[1]!.actions.map((a) => a.name)).toEqual(['producer']);
    expect(m.stages[2]!.actions[0]).toMatchObject({
      with: { version: '${{ actions.compile.outputs.version }}' },
      retries: 2,
      if: "inputs.target == 'prod'",
    });
    expect(text).toContain('# the release pipeline');
    expect(text).toContain('# keep this name');
    expect(parse(text).triggers).toEqual([{ cron: '0 3 * * *' }]);
    // and the text, read again and written again, is unchanged (a stable round trip)
    expect(setActionField(text, 'ship', 'retries', 2)).toBe(text);
  });

  test('moving, renaming and removing stages and actions', () => {
    let text = moveStage(source, 1, -1);
    expect(model(text).stages.map((s) => s.name)).toEqual(['deploy', 'build']);
    expect(moveStage(text, 0, -1)).toBe(text);
    text = renameStage(text, 0, 'ship-it');
    text = removeAction(text, 'compile');
    expect(model(text).stages.map((s) => [s.name, s.actions.length])).toEqual([
      ['ship-it', 1],
      ['build', 0],
    ]);
    text = removeStage(text, 1);
    expect(model(text).stages.map((s) => s.name)).toEqual(['ship-it']);
    text = setWith(setWith(text, 'ship', 'a', 1), 'ship', 'a', undefined);
    expect(parse(text).stages[0].actions[0].with).toBeUndefined();
  });

  test('new names never collide', () => {
    expect(uniqueName('producer', new Set(['producer', 'producer-2']))).toBe('producer-3');
    expect(uniqueName('My Thing!', new Set())).toBe('my-thing');
    const first = addAction(newWorkflowText(), 0, 'producer@1.0.0');
    const second = addAction(first.source, 0, 'producer@1.0.0');
    expect(second.name).toBe('producer-2');
  });

  test('a text with a syntax error reports its line, and edits leave it alone', () => {
    const broken = 'name: x\nstages:\n  - name: [unclosed\n';
    const read = readWorkflow(broken);
    expect('problem' in read && read.problem.line).toBeGreaterThanOrEqual(3);
    expect(addStage(broken)).toBe(broken);
  });

  test('unknown stage kinds survive reading and writing', () => {
    const text = `name: x\nstages:\n  - name: cleanup\n    type: finally\n    actions: [{ name: a, run: echo }]\n`;
    const m = model(text);
    expect(m.stages[0]).toMatchObject({ name: 'cleanup', type: 'finally' });
    expect(parse(addStage(text, 'more')).stages[0].type).toBe('finally');
  });
});

describe('new workflows', () => {
  test('actions added to an empty stage are written as a block list', () => {
    const { source } = addAction(newWorkflowText('w'), 0, 'producer@1.0.0');
    expect(source).toContain('    actions:\n      - name: producer\n        component: producer@1.0.0\n');
  });
});

describe('renaming an action', () => {
  const wired = `name: release
outputs: { built: "\${{ actions.compile.outputs.version }}" }
stages:
  - name: build
    actions:
      - name: compile
        component: producer@1.0.0
      - name: compile-docs # starts alike: never touched
        component: producer@1.0.0
  - name: deploy
    actions:
      - name: ship
        component: consumer@1.0.0
        if: actions.compile.status == 'succeeded'
        with:
          version: "\${{ actions.compile.outputs.version }}"
          docs: "\${{ actions['compile-docs'].outputs.version }}"
          tags: ["v\${{ actions[\\"compile\\"].outputs.version }}", "actions.compile stays outside expressions"]
        env: { COUNT: "\${{ string(actions.compile.outputs.count) }}" }
`;

  test('rewrites every expression that reads it, and nothing else', () => {
    const next = renameAction(wired, 'compile', 'build-app');
    const doc = parse(next);
    const ship = doc.stages[1].actions[0];
    expect(doc.stages[0].actions.map((a: { name: string }) => a.name)).toEqual(['build-app', 'compile-docs']);
    expect(doc.outputs.built).toBe('${{ actions["build-app"].outputs.version }}');
    expect(ship.if).toBe(`actions["build-app"].status == 'succeeded'`);
    expect(ship.with.version).toBe('${{ actions["build-app"].outputs.version }}');
    expect(ship.with.docs).toBe("${{ actions['compile-docs'].outputs.version }}");
    expect(ship.with.tags).toEqual([
      'v${{ actions["build-app"].outputs.version }}',
      'actions.compile stays outside expressions',
    ]);
    expect(ship.env.COUNT).toBe('${{ string(actions["build-app"].outputs.count) }}');
    // the data map still sees its source
    expect(model(next).stages[1]!.actions[0]!.with.version).toBe(
      expressionOf({ action: 'build-app', field: 'version' }),
    );
    // and back: a plain identifier again
    const back = parse(renameAction(next, 'build-app', 'compile'));
    expect(back.stages[1].actions[0].with.version).toBe('${{ actions.compile.outputs.version }}');
  });

  test('a taken or malformed name is refused with the reason', () => {
    expect(renameProblem(wired, 'compile', 'ship')).toMatch(/exists already/);
    expect(renameProblem(wired, 'compile', 'Build')).toMatch(/lowercase/);
    expect(renameProblem(wired, 'compile', 'compile')).toBeUndefined();
    expect(renameProblem(wired, 'compile', 'compile-all')).toBeUndefined();
  });
});
