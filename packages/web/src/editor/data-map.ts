import type { EditorAction, EditorModel } from './workflow-doc';

/**
 * The data map of the workflow editor (ContainerOps' output-to-input mapping): which outputs
 * of earlier actions may feed which input of an action, and what is wrong with the mappings a
 * workflow holds. Rules:
 * - a source must be an action of an EARLIER stage (same or later stage: refused);
 * - its type must match the input's (an integer output may feed a number input; an untyped
 *   side matches anything);
 * - one input takes ONE source: mapping a second onto a mapped input is refused (unmap first),
 *   and a value built from two actions' outputs is a problem.
 * Pure; the component schemas come in as a catalog.
 */

/** What the data map needs of a component: its input and output JSON Schemas. */
export interface ComponentSchemas {
  readonly inputs?: unknown;
  readonly outputs?: unknown;
}

/** Component reference (as an action writes it) → its schemas; missing: not known (yet). */
export type Catalog = ReadonlyMap<string, ComponentSchemas>;

/** A field of a component's inputs or outputs: top-level property, its JSON types. */
export interface SchemaField {
  readonly name: string;
  /** JSON types; empty: any */
  readonly types: readonly string[];
  readonly required: boolean;
  readonly description?: string;
}

/** An output of an action, as a possible source. */
export interface Source {
  readonly action: string;
  readonly field: string;
  readonly stage: number;
  readonly types: readonly string[];
}

/** The input being mapped. */
export interface Target {
  readonly action: string;
  readonly field: string;
}

/** Why a mapping is refused (stable codes; `message` says it in words). */
export type Refusal =
  | { readonly code: 'later-stage'; readonly message: string }
  | { readonly code: 'type'; readonly message: string }
  | { readonly code: 'two-sources'; readonly message: string }
  | { readonly code: 'unknown'; readonly message: string };

export type MapCheck = { readonly ok: true } | ({ readonly ok: false } & Refusal);

/** A problem of the mappings in a workflow, on one input of one action. */
export interface MapProblem {
  readonly action: string;
  readonly field: string;
  readonly code: 'later-stage' | 'type' | 'two-sources' | 'unknown-action' | 'unknown-output' | 'required';
  readonly message: string;
}

type SchemaNode = {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  required?: string[];
  description?: string;
};

/** The top-level fields of an object schema. */
export function schemaFields(schema: unknown): SchemaField[] {
  const node = (schema ?? {}) as SchemaNode;
  const required = new Set(node.required ?? []);
  return Object.entries(node.properties ?? {}).map(([name, child]) => ({
    name,
    types: child.type === undefined ? [] : Array.isArray(child.type) ? child.type : [child.type],
    required: required.has(name),
    ...(child.description === undefined ? {} : { description: child.description }),
  }));
}

/** True when a value of `from` types fits an input of `to` types. */
export function typesMatch(from: readonly string[], to: readonly string[]): boolean {
  if (from.length === 0 || to.length === 0) return true;
  return from.every((f) => to.includes(f) || (f === 'integer' && to.includes('number')));
}

const typeText = (types: readonly string[]): string => (types.length === 0 ? 'any' : types.join(' | '));

/**
 * How an expression names action `name`: `actions.build`, or `actions["my-action"]` for a name
 * that is no CEL identifier (action names may hold dashes).
 */
export function actionRef(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? `actions.${name}` : `actions["${name}"]`;
}

/** The expression that feeds an input from `source`: `${{ actions.build.outputs.version }}`. */
export function expressionOf(source: Pick<Source, 'action' | 'field'>): string {
  return `\${{ ${actionRef(source.action)}.outputs.${source.field} }}`;
}

// `actions.NAME` or `actions["NAME"]` / `actions['NAME']`, then `.outputs.FIELD`
const ACTION = String.raw`actions(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*["']([a-z0-9-]+)["']\s*\])`;
const REFERENCE = new RegExp(String.raw`${ACTION}\.outputs\.([A-Za-z0-9_]+)`, 'g');
const WHOLE = new RegExp(String.raw`^\$\{\{\s*${ACTION}\.outputs\.([A-Za-z0-9_]+)\s*\}\}$`);
const EXPRESSION = /\$\{\{([\s\S]*?)\}\}/g;

/**
 * `text` with every reference to action `from` (`actions.from`, `actions["from"]`) naming `to`
 * instead: inside its `${{ }}` blocks, or the whole text when `bare` (an `if:` may be written
 * without `${{ }}`). Other actions whose names start alike are left alone.
 */
export function renameInExpressions(text: string, from: string, to: string, bare = false): string {
  const escaped = from.replace(/[-]/g, '\\-');
  const reference = new RegExp(String.raw`actions(?:\.${escaped}(?![A-Za-z0-9_-])|\[\s*(["'])${escaped}\1\s*\])`, 'g');
  const rename = (expression: string) => expression.replace(reference, actionRef(to));
  if (bare && !text.includes('${{')) return rename(text);
  return text.replace(EXPRESSION, (block) => rename(block));
}

/** Every action output a value reads (`actions.X.outputs.Y` inside `${{ }}`), in order. */
export function referencesIn(value: unknown): { action: string; field: string }[] {
  if (typeof value === 'string') {
    const out: { action: string; field: string }[] = [];
    for (const block of value.matchAll(EXPRESSION)) {
      for (const m of (block[1] ?? '').matchAll(REFERENCE)) out.push({ action: (m[1] ?? m[2])!, field: m[3]! });
    }
    return out;
  }
  if (Array.isArray(value)) return value.flatMap(referencesIn);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(referencesIn);
  return [];
}

/** The source a value maps, when it is exactly one whole `${{ actions.X.outputs.Y }}`. */
export function mappedSource(value: unknown): { action: string; field: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const m = WHOLE.exec(value.trim());
  return m ? { action: (m[1] ?? m[2])!, field: m[3]! } : undefined;
}

function locate(model: EditorModel, name: string): { stage: number; action: EditorAction } | undefined {
  for (let stage = 0; stage < model.stages.length; stage += 1) {
    const action = model.stages[stage]!.actions.find((a) => a.name === name);
    if (action) return { stage, action };
  }
  return undefined;
}

function schemasOf(catalog: Catalog, action: EditorAction): ComponentSchemas | undefined {
  return action.component === undefined ? undefined : catalog.get(action.component);
}

/** Every declared output of every action of the workflow, as possible sources. */
export function allSources(model: EditorModel, catalog: Catalog): Source[] {
  return model.stages.flatMap((stage, index) =>
    stage.actions.flatMap((action) =>
      schemaFields(schemasOf(catalog, action)?.outputs).map((f) => ({
        action: action.name,
        field: f.name,
        stage: index,
        types: f.types,
      })),
    ),
  );
}

/** The field of the target action's inputs, if its component declares it. */
function targetField(model: EditorModel, catalog: Catalog, target: Target): SchemaField | undefined {
  const at = locate(model, target.action);
  if (!at) return undefined;
  return schemaFields(schemasOf(catalog, at.action)?.inputs).find((f) => f.name === target.field);
}

/**
 * May `source` feed `target`? Refused when the source's action is not in an earlier stage, when
 * the types differ, or (with `replacing` false, the default) when the input already takes
 * another source.
 */
export function checkMapping(
  model: EditorModel,
  catalog: Catalog,
  target: Target,
  source: Pick<Source, 'action' | 'field'>,
): MapCheck {
  const to = locate(model, target.action);
  const from = locate(model, source.action);
  if (!to || !from) return { ok: false, code: 'unknown', message: `no action ${!to ? target.action : source.action}` };
  const current = to.action.with[target.field];
  const existing = referencesIn(current);
  const same = existing.length === 1 && existing[0]!.action === source.action && existing[0]!.field === source.field;
  if (existing.length > 0 && !same) {
    const taken = existing.map((r) => `${r.action}.${r.field}`).join(', ');
    return {
      ok: false,
      code: 'two-sources',
      message: `${target.action}.${target.field} already takes ${taken}: one input takes one source (unmap it first)`,
    };
  }
  if (from.stage >= to.stage) {
    const where = from.stage === to.stage ? 'in the same stage as' : 'in a later stage than';
    return {
      ok: false,
      code: 'later-stage',
      message: `${source.action} runs ${where} ${target.action}: a source must be an action of an earlier stage`,
    };
  }
  const output = schemaFields(schemasOf(catalog, from.action)?.outputs).find((f) => f.name === source.field);
  const input = targetField(model, catalog, target);
  const fromTypes = output?.types ?? [];
  const toTypes = input?.types ?? [];
  if (!typesMatch(fromTypes, toTypes)) {
    return {
      ok: false,
      code: 'type',
      message: `${source.action}.${source.field} is ${typeText(fromTypes)} but ${target.action}.${target.field} takes ${typeText(toTypes)}`,
    };
  }
  return { ok: true };
}

/** The sources that could feed `target`, each with whether it may and why not. */
export function sourcesFor(
  model: EditorModel,
  catalog: Catalog,
  target: Target,
): { source: Source; check: MapCheck }[] {
  // the check against the input's current value is left out: listing is about fit, not occupancy
  const free: EditorModel = {
    ...model,
    stages: model.stages.map((s) => ({
      ...s,
      actions: s.actions.map((a) =>
        a.name === target.action ? { ...a, with: { ...a.with, [target.field]: undefined } } : a,
      ),
    })),
  };
  return allSources(model, catalog)
    .filter((s) => s.action !== target.action)
    .map((source) => ({ source, check: checkMapping(free, catalog, target, source) }));
}

/** Every problem of the mappings in the workflow, action by action. */
export function mappingProblems(model: EditorModel, catalog: Catalog): MapProblem[] {
  const problems: MapProblem[] = [];
  model.stages.forEach((stage, stageIndex) => {
    for (const action of stage.actions) {
      const schemas = schemasOf(catalog, action);
      const inputs = schemaFields(schemas?.inputs);
      for (const [field, value] of Object.entries(action.with)) {
        const refs = referencesIn(value);
        const distinct = new Set(refs.map((r) => r.action));
        if (distinct.size > 1) {
          problems.push({
            action: action.name,
            field,
            code: 'two-sources',
            message: `${action.name}.${field} reads ${[...distinct].join(' and ')}: one input takes one source`,
          });
        }
        for (const ref of refs) {
          const from = locate(model, ref.action);
          if (!from) {
            problems.push({
              action: action.name,
              field,
              code: 'unknown-action',
              message: `${action.name}.${field} reads ${ref.action}, which is not an action of this workflow`,
            });
            continue;
          }
          if (from.stage >= stageIndex) {
            problems.push({
              action: action.name,
              field,
              code: 'later-stage',
              message: `${action.name}.${field} reads ${ref.action}, which does not run in an earlier stage`,
            });
            continue;
          }
          const declared = schemaFields(schemasOf(catalog, from.action)?.outputs);
          const output = declared.find((f) => f.name === ref.field);
          if (declared.length > 0 && !output) {
            problems.push({
              action: action.name,
              field,
              code: 'unknown-output',
              message: `${ref.action} declares no output "${ref.field}" (it has ${declared.map((f) => f.name).join(', ')})`,
            });
            continue;
          }
          const input = inputs.find((f) => f.name === field);
          if (output && input && mappedSource(value) && !typesMatch(output.types, input.types)) {
            problems.push({
              action: action.name,
              field,
              code: 'type',
              message: `${ref.action}.${ref.field} is ${typeText(output.types)} but ${action.name}.${field} takes ${typeText(input.types)}`,
            });
          }
        }
      }
      for (const input of inputs) {
        if (input.required && action.with[input.name] === undefined) {
          problems.push({
            action: action.name,
            field: input.name,
            code: 'required',
            message: `${action.name} needs a value for ${input.name}`,
          });
        }
      }
    }
  });
  return problems;
}
