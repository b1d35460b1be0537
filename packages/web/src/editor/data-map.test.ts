import { describe, expect, test } from 'vitest';
import {
  checkMapping,
  expressionOf,
  mappedSource,
  mappingProblems,
  referencesIn,
  sourcesFor,
  typesMatch,
  type Catalog,
} from './data-map';
import { readWorkflow, type EditorModel } from './workflow-doc';

const catalog: Catalog = new Map([
  [
    'build@1.0.0',
    {
      outputs: {
        type: 'object',
        properties: {
          version: { type: 'string' },
          count: { type: 'integer' },
          size: { type: 'integer' },
          ok: { type: 'boolean' },
        },
      },
    },
  ],
  [
    'deploy@1.0.0',
    {
      inputs: {
        type: 'object',
        required: ['version'],
        properties: { version: { type: 'string' }, replicas: { type: 'number' }, note: {} },
      },
      outputs: { type: 'object', properties: { url: { type: 'string' } } },
    },
  ],
]);

function model(yaml: string): EditorModel {
  const read = readWorkflow(yaml);
  if (!('model' in read)) throw new Error(read.problem.message);
  return read.model;
}

const twoStages = `
name: w
stages:
  - name: one
    actions:
      - { name: build, component: build@1.0.0 }
      - { name: sibling, component: deploy@1.0.0, with: { version: x } }
  - name: two
    actions:
      - { name: deploy, component: deploy@1.0.0 }
`;

describe('types', () => {
  test('an output fits an input of the same type; integer fits number; untyped fits all', () => {
    expect(typesMatch(['string'], ['string'])).toBe(true);
    expect(typesMatch(['integer'], ['number'])).toBe(true);
    expect(typesMatch(['number'], ['integer'])).toBe(false);
    expect(typesMatch(['string'], ['number'])).toBe(false);
    expect(typesMatch([], ['number'])).toBe(true);
    expect(typesMatch(['boolean'], [])).toBe(true);
    expect(typesMatch(['string', 'null'], ['string'])).toBe(false);
  });
});

describe('expressions', () => {
  test('a mapping is one whole expression; references are found anywhere in a value', () => {
    const e = expressionOf({ action: 'build', field: 'version' });
    expect(e).toBe('${{ actions.build.outputs.version }}');
    expect(mappedSource(e)).toEqual({ action: 'build', field: 'version' });
    expect(mappedSource(`v${e}`)).toBeUndefined();
    expect(mappedSource('actions.build.outputs.version')).toBeUndefined();
    expect(referencesIn({ a: [`x ${e} y`, '${{ actions.b.outputs.c + actions.d.outputs.e }}'] })).toEqual([
      { action: 'build', field: 'version' },
      { action: 'b', field: 'c' },
      { action: 'd', field: 'e' },
    ]);
    expect(referencesIn('actions.build.outputs.version outside an expression')).toEqual([]);
  });

  test('a name with a dash is written and read in brackets (CEL has no dash in identifiers)', () => {
    const e = expressionOf({ action: 'make-version', field: 'version' });
    expect(e).toBe('${{ actions["make-version"].outputs.version }}');
    expect(mappedSource(e)).toEqual({ action: 'make-version', field: 'version' });
    expect(referencesIn("${{ actions['a-b'].outputs.c }}")).toEqual([{ action: 'a-b', field: 'c' }]);
  });
});

describe('which outputs may feed which input', () => {
  test('an output of an earlier stage with a matching type may', () => {
    const m = model(twoStages);
    expect(
      checkMapping(m, catalog, { action: 'deploy', field: 'version' }, { action: 'build', field: 'version' }),
    ).toEqual({ ok: true });
    expect(
      checkMapping(m, catalog, { action: 'deploy', field: 'replicas' }, { action: 'build', field: 'count' }),
    ).toEqual({ ok: true });
    expect(checkMapping(m, catalog, { action: 'deploy', field: 'note' }, { action: 'build', field: 'ok' })).toEqual({
      ok: true,
    });
  });

  test('a source in the same or a later stage is refused', () => {
    const m = model(twoStages);
    const same = checkMapping(
      m,
      catalog,
      { action: 'sibling', field: 'version' },
      { action: 'build', field: 'version' },
    );
    expect(same).toMatchObject({ ok: false, code: 'later-stage' });
    const later = checkMapping(m, catalog, { action: 'sibling', field: 'version' }, { action: 'deploy', field: 'url' });
    expect(later).toMatchObject({ ok: false, code: 'later-stage' });
  });

  test('types must match', () => {
    const m = model(twoStages);
    const check = checkMapping(m, catalog, { action: 'deploy', field: 'version' }, { action: 'build', field: 'count' });
    expect(check).toMatchObject({ ok: false, code: 'type' });
    expect(check.ok ? '' : check.message).toContain('integer');
  });

  test('two sources for one input are refused; mapping the same source again is fine', () => {
    const mapped = model(
      twoStages.replace(
        '{ name: deploy, component: deploy@1.0.0 }',
        '{ name: deploy, component: deploy@1.0.0, with: { version: "${{ actions.build.outputs.version }}" } }',
      ),
    );
    expect(
      checkMapping(mapped, catalog, { action: 'deploy', field: 'version' }, { action: 'build', field: 'version' }),
    ).toEqual({ ok: true });
    const withTwo = model(
      twoStages.replace(
        '{ name: deploy, component: deploy@1.0.0 }',
        '{ name: deploy, component: deploy@1.0.0, with: { replicas: "${{ actions.build.outputs.count }}" } }',
      ),
    );
    const second = checkMapping(
      withTwo,
      catalog,
      { action: 'deploy', field: 'replicas' },
      { action: 'sibling', field: 'url' },
    );
    // a mapped input refuses any other source, before anything else is checked
    expect(second).toMatchObject({ ok: false, code: 'two-sources' });
    const again = checkMapping(
      withTwo,
      catalog,
      { action: 'deploy', field: 'replicas' },
      { action: 'build', field: 'size' },
    );
    expect(again).toMatchObject({ ok: false, code: 'two-sources' });
  });

  test('sourcesFor lists every output of the other actions, each with its verdict', () => {
    const m = model(twoStages);
    const list = sourcesFor(m, catalog, { action: 'deploy', field: 'version' });
    const verdict = Object.fromEntries(
      list.map((s) => [`${s.source.action}.${s.source.field}`, s.check.ok ? 'ok' : s.check.code]),
    );
    expect(verdict).toEqual({
      'build.version': 'ok',
      'build.count': 'type',
      'build.size': 'type',
      'build.ok': 'type',
      'sibling.url': 'ok',
    });
  });
});

describe('problems of the mappings a workflow holds', () => {
  test('a valid map has none; each kind of wrong map is named on its input', () => {
    const ok = model(
      twoStages.replace(
        '{ name: deploy, component: deploy@1.0.0 }',
        '{ name: deploy, component: deploy@1.0.0, with: { version: "${{ actions.build.outputs.version }}" } }',
      ),
    );
    expect(mappingProblems(ok, catalog)).toEqual([]);
    const bad = model(`
name: w
stages:
  - name: one
    actions:
      - { name: build, component: build@1.0.0 }
      - name: early
        component: deploy@1.0.0
        with: { version: "\${{ actions.late.outputs.url }}" }
  - name: two
    actions:
      - name: late
        component: deploy@1.0.0
        with:
          version: "\${{ actions.build.outputs.count }}"
          replicas: "\${{ actions.build.outputs.count + actions.early.outputs.url }}"
          note: "\${{ actions.build.outputs.nope }}"
`);
    const found = mappingProblems(bad, catalog).map((p) => `${p.action}.${p.field}: ${p.code}`);
    expect(found).toEqual([
      'early.version: later-stage',
      'late.version: type',
      'late.replicas: two-sources',
      'late.note: unknown-output',
    ]);
  });

  test('a required input without a value is a problem', () => {
    const m = model(twoStages);
    expect(mappingProblems(m, catalog)).toEqual([
      { action: 'deploy', field: 'version', code: 'required', message: 'deploy needs a value for version' },
    ]);
  });
});
