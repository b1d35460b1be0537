import Form from '@rjsf/core';
import type { RJSFSchema } from '@rjsf/utils';
import { useMemo, useState, type DragEvent } from 'react';
import { formValidator } from '../common/schema-validator';
import { Tabs } from '../common/ui';
import {
  checkMapping,
  expressionOf,
  mappedSource,
  referencesIn,
  schemaFields,
  sourcesFor,
  type Catalog,
  type MapProblem,
} from './data-map';
import type { EditorAction, EditorModel } from './workflow-doc';

/** MIME type of an output dragged onto an input of the data map: JSON `{action, field}`. */
export const OUTPUT_DRAG_TYPE = 'application/x-pilotage-output';

type Tab = 'inputs' | 'settings';

export interface InspectorEdits {
  setWith(key: string, value: unknown): void;
  setField(field: string, value: unknown): void;
  /** rename the action, rewriting the expressions that read it; answers why not, if refused */
  rename(to: string): string | undefined;
  remove(): void;
  /** say something briefly (a refused mapping) */
  tell(message: string): void;
}

/**
 * The right-hand panel of the editor for one action: its `with:` as a form generated from the
 * component's input schema (literal values), the data map (each input fed by the output of an
 * earlier action whose type matches), and `if`, retries, timeout, env.
 */
export function ActionInspector({
  model,
  action,
  stage,
  catalog,
  problems,
  edits,
}: {
  readonly model: EditorModel;
  readonly action: EditorAction;
  readonly stage: number;
  readonly catalog: Catalog;
  readonly problems: readonly MapProblem[];
  readonly edits: InspectorEdits;
}) {
  const [tab, setTab] = useState<Tab>('inputs');
  const schemas = action.component === undefined ? undefined : catalog.get(action.component);
  return (
    <aside className="inspector" aria-label={`Action ${action.name}`}>
      <div className="panel-head">
        <h2 title={action.name}>{action.name}</h2>
        <span className="chip">stage {stage + 1}</span>
      </div>
      <p className="muted small">{action.component ?? 'inline run: a shell script'}</p>
      <Tabs<Tab>
        label="Action"
        value={tab}
        onChange={setTab}
        tabs={[
          { id: 'inputs', label: 'Inputs & data map' },
          { id: 'settings', label: 'Settings' },
        ]}
      />
      {problems.length > 0 && (
        <ul className="problems" aria-label="Problems of this action">
          {problems.map((p, i) => (
            <li key={i}>{p.message}</li>
          ))}
        </ul>
      )}
      {tab === 'inputs' &&
        (action.component === undefined ? (
          <div className="field">
            <label htmlFor="run-script">Script</label>
            <textarea
              id="run-script"
              rows={8}
              value={action.run ?? ''}
              onChange={(e) => edits.setField('run', e.target.value)}
              spellCheck={false}
            />
          </div>
        ) : schemas === undefined ? (
          <p className="muted">Reading the schemas of {action.component}…</p>
        ) : (
          <>
            <LiteralForm action={action} inputs={schemas.inputs} edits={edits} />
            <DataMap model={model} action={action} stage={stage} catalog={catalog} edits={edits} />
          </>
        ))}
      {tab === 'settings' && <Settings action={action} edits={edits} />}
      <div className="form-actions">
        <button type="button" className="danger" onClick={edits.remove}>
          Remove action
        </button>
      </div>
    </aside>
  );
}

/** The literal (unmapped) inputs as a form generated from the component's input schema. */
function LiteralForm({
  action,
  inputs,
  edits,
}: {
  readonly action: EditorAction;
  readonly inputs: unknown;
  readonly edits: InspectorEdits;
}) {
  const { schema, data } = useMemo(() => literalPart(inputs, action.with), [inputs, action.with]);
  if (Object.keys((schema.properties as object | undefined) ?? {}).length === 0) {
    return <p className="muted small">Every input is fed by the data map below.</p>;
  }
  return (
    <Form
      schema={schema}
      formData={data}
      validator={formValidator}
      noHtml5Validate
      showErrorList={false}
      liveValidate="onChange"
      experimental_defaultFormStateBehavior={{ emptyObjectFields: 'skipDefaults' }}
      onError={() => undefined}
      onChange={(e) => {
        const next = (e.formData ?? {}) as Record<string, unknown>;
        for (const key of new Set([...Object.keys(next), ...Object.keys(data)])) {
          if (JSON.stringify(next[key]) !== JSON.stringify(data[key])) {
            edits.setWith(key, next[key] === '' ? undefined : next[key]);
          }
        }
      }}
    >
      <span />
    </Form>
  );
}

/**
 * The part of an input schema a form edits: the properties whose value is not an expression
 * (expressions belong to the data map), and their current literal values. Pure.
 */
export function literalPart(
  inputs: unknown,
  values: Readonly<Record<string, unknown>>,
): { schema: RJSFSchema; data: Record<string, unknown> } {
  const base = (inputs ?? {}) as { properties?: Record<string, unknown>; required?: string[] };
  const expression = (v: unknown) => referencesIn(v).length > 0 || (typeof v === 'string' && v.includes('${{'));
  const properties = Object.fromEntries(Object.entries(base.properties ?? {}).filter(([k]) => !expression(values[k])));
  const data = Object.fromEntries(Object.entries(values).filter(([k, v]) => k in properties && !expression(v)));
  return {
    schema: {
      type: 'object',
      properties: properties as RJSFSchema['properties'],
      required: (base.required ?? []).filter((r) => r in properties),
    } as RJSFSchema,
    data,
  };
}

/** The data map of one action: each input, what feeds it, and the outputs of earlier actions that may. */
function DataMap({
  model,
  action,
  stage,
  catalog,
  edits,
}: {
  readonly model: EditorModel;
  readonly action: EditorAction;
  readonly stage: number;
  readonly catalog: Catalog;
  readonly edits: InspectorEdits;
}) {
  const inputs = schemaFields(catalog.get(action.component ?? '')?.inputs);
  const earlier = model.stages.slice(0, stage).flatMap((s) => s.actions);
  const drop = (field: string) => (e: DragEvent<HTMLTableRowElement>) => {
    e.currentTarget.classList.remove('drop-target');
    const raw = e.dataTransfer.getData(OUTPUT_DRAG_TYPE);
    if (!raw) return;
    e.preventDefault();
    const source = JSON.parse(raw) as { action: string; field: string };
    const check = checkMapping(model, catalog, { action: action.name, field }, source);
    if (check.ok) edits.setWith(field, expressionOf(source));
    else edits.tell(check.message);
  };
  return (
    <div className="datamap-block">
      <h3>Data map</h3>
      {earlier.length > 0 && (
        <>
          <p className="muted small">Outputs of earlier stages: drag one onto an input, or pick it in the list.</p>
          <div className="outputs-list">
            {earlier.flatMap((a) =>
              schemaFields(catalog.get(a.component ?? '')?.outputs).map((f) => (
                <span
                  key={`${a.name}.${f.name}`}
                  className="output-chip"
                  draggable
                  data-output={`${a.name}.${f.name}`}
                  onDragStart={(e) => {
                    e.dataTransfer.setData(OUTPUT_DRAG_TYPE, JSON.stringify({ action: a.name, field: f.name }));
                    e.dataTransfer.effectAllowed = 'link';
                  }}
                  title={`${f.types.join(' | ') || 'any'}${f.description ? `: ${f.description}` : ''}`}
                >
                  {a.name}.{f.name}
                </span>
              )),
            )}
          </div>
        </>
      )}
      {inputs.length === 0 ? (
        <p className="muted small">The component declares no inputs.</p>
      ) : (
        <table className="datamap">
          <thead>
            <tr>
              <th>Input</th>
              <th>Fed by</th>
            </tr>
          </thead>
          <tbody>
            {inputs.map((input) => {
              const value = action.with[input.name];
              const mapped = mappedSource(value);
              const options = sourcesFor(model, catalog, { action: action.name, field: input.name });
              return (
                <tr
                  key={input.name}
                  data-input={input.name}
                  onDragOver={(e) => {
                    if (e.dataTransfer.types.includes(OUTPUT_DRAG_TYPE)) {
                      e.preventDefault();
                      e.currentTarget.classList.add('drop-target');
                    }
                  }}
                  onDragLeave={(e) => e.currentTarget.classList.remove('drop-target')}
                  onDrop={drop(input.name)}
                >
                  <td>
                    <code>{input.name}</code>
                    {input.required && <span className="required">*</span>}
                    <div className="muted small">{input.types.join(' | ') || 'any'}</div>
                  </td>
                  <td>
                    {mapped ? (
                      <span className="mapped">
                        {mapped.action}.{mapped.field}
                        <button
                          type="button"
                          aria-label={`Unmap ${input.name}`}
                          title="Unmap"
                          onClick={() => edits.setWith(input.name, undefined)}
                        >
                          ✕
                        </button>
                      </span>
                    ) : referencesIn(value).length > 0 ? (
                      <code className="small">{String(value)}</code>
                    ) : (
                      <select
                        aria-label={`Source of ${input.name}`}
                        value=""
                        onChange={(e) => {
                          const [a, f] = e.target.value.split('\u0000') as [string, string];
                          const check = checkMapping(
                            model,
                            catalog,
                            { action: action.name, field: input.name },
                            { action: a, field: f },
                          );
                          if (check.ok) edits.setWith(input.name, expressionOf({ action: a, field: f }));
                          else edits.tell(check.message);
                        }}
                      >
                        <option value="">
                          {value === undefined ? '— literal (form above) —' : `literal: ${JSON.stringify(value)}`}
                        </option>
                        {options.map(({ source, check }) => (
                          <option
                            key={`${source.action}.${source.field}`}
                            value={`${source.action}\u0000${source.field}`}
                            disabled={!check.ok}
                          >
                            {source.action}.{source.field} ({source.types.join(' | ') || 'any'})
                            {check.ok
                              ? ''
                              : ` — ${check.code === 'later-stage' ? 'not an earlier stage' : check.code === 'type' ? 'type differs' : check.message}`}
                          </option>
                        ))}
                      </select>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Settings({ action, edits }: { readonly action: EditorAction; readonly edits: InspectorEdits }) {
  const [env, setEnv] = useState(() =>
    Object.entries(action.env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  );
  return (
    <div>
      <RenameField name={action.name} edits={edits} />
      <div className="field">
        <label htmlFor="act-if">Run only if (CEL condition)</label>
        <input
          id="act-if"
          placeholder="inputs.target == 'production'"
          value={action.if ?? ''}
          onChange={(e) => edits.setField('if', e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="act-retries">Retries</label>
        <input
          id="act-retries"
          type="number"
          min={0}
          max={20}
          value={typeof action.retries === 'number' ? action.retries : ''}
          onChange={(e) => edits.setField('retries', e.target.value === '' ? undefined : Number(e.target.value))}
        />
      </div>
      <div className="field">
        <label htmlFor="act-timeout">Timeout of each attempt</label>
        <input
          id="act-timeout"
          placeholder="10m"
          value={action.timeout ?? ''}
          onChange={(e) => edits.setField('timeout', e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="act-env">Env (one NAME=value a line; values may hold {'${{ }}'})</label>
        <textarea
          id="act-env"
          rows={4}
          spellCheck={false}
          value={env}
          onChange={(e) => setEnv(e.target.value)}
          onBlur={() => {
            const entries = env
              .split('\n')
              .map((l) => l.trim())
              .filter((l) => l.includes('='))
              .map((l) => [l.slice(0, l.indexOf('=')).trim(), l.slice(l.indexOf('=') + 1)] as const);
            edits.setField('env', entries.length === 0 ? undefined : Object.fromEntries(entries));
          }}
        />
      </div>
    </div>
  );
}

/**
 * The action's name, renamed on Enter or when the field is left: the expressions that read the
 * action (`actions.NAME.outputs…`) are rewritten with it; a refused name says why and stays.
 */
function RenameField({ name, edits }: { readonly name: string; readonly edits: InspectorEdits }) {
  const [value, setValue] = useState(name);
  const [problem, setProblem] = useState<string | undefined>();
  const commit = () => {
    const to = value.trim();
    if (to === name) return setProblem(undefined);
    setProblem(edits.rename(to));
  };
  return (
    <div className="field">
      <label htmlFor="act-name">Name (expressions that read it follow)</label>
      <input
        id="act-name"
        value={value}
        aria-invalid={problem !== undefined}
        aria-describedby={problem === undefined ? undefined : 'act-name-problem'}
        onChange={(e) => setValue(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit();
          if (e.key === 'Escape') {
            setValue(name);
            setProblem(undefined);
          }
        }}
      />
      {problem !== undefined && (
        <p id="act-name-problem" role="alert" className="error">
          {problem}
        </p>
      )}
    </div>
  );
}
