import { isMap, isScalar, isSeq, parseDocument, visit, type Document } from 'yaml';
import { renameInExpressions } from './data-map';

/**
 * The workflow being edited is its YAML text; the graph, the forms and the YAML tab are views
 * of it. `readWorkflow` reads the model the views draw; the edit functions take the text and
 * return the new text, changing only what they must through the YAML document (comments, key
 * order and formatting elsewhere survive). Pure.
 */

/** An action as the editor shows it. */
export interface EditorAction {
  readonly name: string;
  readonly component?: string;
  readonly run?: string;
  readonly with: Readonly<Record<string, unknown>>;
  readonly if?: string;
  readonly retries?: unknown;
  readonly timeout?: string;
  readonly env: Readonly<Record<string, string>>;
}

/** A stage: `actions`, `approval`, or a kind this editor does not know (kept, drawn, not edited). */
export interface EditorStage {
  readonly name: string;
  readonly type: string;
  readonly actions: readonly EditorAction[];
}

export interface EditorModel {
  readonly name: string;
  readonly description?: string;
  readonly inputs?: object;
  readonly stages: readonly EditorStage[];
}

/** A YAML syntax problem, 1-based. */
export interface SyntaxProblem {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** A new workflow's text. */
export function newWorkflowText(name = 'my-workflow'): string {
  return `apiVersion: pilotage.dev/v1
kind: Workflow
name: ${name}
description: ""
inputs:
  type: object
  properties: {}
stages:
  - name: build
    actions: []
`;
}

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The model of a workflow text, or its first syntax problem. */
export function readWorkflow(source: string): { model: EditorModel } | { problem: SyntaxProblem } {
  const doc = parseDocument(source);
  const error = doc.errors[0];
  if (error) {
    const [line, column] = error.linePos?.[0] ? [error.linePos[0].line, error.linePos[0].col] : [1, 1];
    return { problem: { line, column, message: error.message.split('\n')[0] ?? error.message } };
  }
  const root = record(doc.toJS());
  const stages = (Array.isArray(root.stages) ? root.stages : []).map((raw): EditorStage => {
    const stage = record(raw);
    return {
      name: text(stage.name) ?? '',
      type: text(stage.type) ?? 'actions',
      actions: (Array.isArray(stage.actions) ? stage.actions : []).map((rawAction): EditorAction => {
        const a = record(rawAction);
        return {
          name: text(a.name) ?? '',
          ...(text(a.component) === undefined ? {} : { component: text(a.component)! }),
          ...(text(a.run) === undefined ? {} : { run: text(a.run)! }),
          with: record(a.with),
          ...(a.if === undefined ? {} : { if: String(a.if) }),
          ...(a.retries === undefined ? {} : { retries: a.retries }),
          ...(text(a.timeout) === undefined ? {} : { timeout: text(a.timeout)! }),
          env: Object.fromEntries(Object.entries(record(a.env)).map(([k, v]) => [k, String(v)])),
        };
      }),
    };
  });
  return {
    model: {
      name: text(root.name) ?? '',
      ...(text(root.description) === undefined ? {} : { description: text(root.description)! }),
      ...(typeof root.inputs === 'object' && root.inputs !== null ? { inputs: root.inputs as object } : {}),
      stages,
    },
  };
}

/** Apply `change` to the document of `source`; the source itself when it does not parse. */
function edit(source: string, change: (doc: Document) => void): string {
  const doc = parseDocument(source);
  if (doc.errors.length > 0) return source;
  change(doc);
  return doc.toString({ lineWidth: 0 });
}

/** Every action name in use. */
function actionNames(doc: Document): Set<string> {
  const model = readWorkflow(doc.toString());
  return new Set('model' in model ? model.model.stages.flatMap((s) => s.actions.map((a) => a.name)) : []);
}

/** `base`, or `base-2`, `base-3`… whichever is not in `taken`. Names keep to lowercase, digits and dashes. */
export function uniqueName(base: string, taken: ReadonlySet<string>): string {
  const clean =
    base
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'action';
  if (!taken.has(clean)) return clean;
  for (let i = 2; ; i += 1) if (!taken.has(`${clean}-${i}`)) return `${clean}-${i}`;
}

export function setWorkflowName(source: string, name: string): string {
  return edit(source, (doc) => doc.set('name', name));
}

/** Add a stage (named uniquely) at the end, or at `index`. */
export function addStage(source: string, name = 'stage', index?: number): string {
  const read = readWorkflow(source);
  const taken = new Set('model' in read ? read.model.stages.map((s) => s.name) : []);
  return edit(source, (doc) => {
    const node = doc.createNode({ name: uniqueName(name, taken), actions: [] });
    const stages = doc.get('stages');
    if (!isSeq(stages)) doc.set('stages', doc.createNode([]));
    const seq = doc.get('stages');
    if (!isSeq(seq)) return;
    seq.flow = false;
    if (index === undefined || index >= seq.items.length) seq.items.push(node);
    else seq.items.splice(index, 0, node);
  });
}

export function removeStage(source: string, index: number): string {
  return edit(source, (doc) => doc.deleteIn(['stages', index]));
}

/** Move stage `index` by one place left (-1) or right (+1). */
export function moveStage(source: string, index: number, by: -1 | 1): string {
  return edit(source, (doc) => {
    const seq = doc.get('stages');
    if (!isSeq(seq)) return;
    const to = index + by;
    if (to < 0 || to >= seq.items.length) return;
    const [item] = seq.items.splice(index, 1);
    seq.items.splice(to, 0, item);
  });
}

export function renameStage(source: string, index: number, name: string): string {
  return edit(source, (doc) => doc.setIn(['stages', index, 'name'], name));
}

/** Add an action running `component` (`name@version`) to stage `stageIndex`; returns the text and the action's name. */
export function addAction(source: string, stageIndex: number, component: string): { source: string; name: string } {
  let name = '';
  const next = edit(source, (doc) => {
    name = uniqueName(component.split('@')[0] ?? 'action', actionNames(doc));
    const actions = doc.getIn(['stages', stageIndex, 'actions']);
    const node = doc.createNode({ name, component });
    if (isSeq(actions)) {
      // `actions: []` of a new stage: write the list as a block from now on
      actions.flow = false;
      actions.items.push(node);
    } else doc.setIn(['stages', stageIndex, 'actions'], doc.createNode([{ name, component }]));
  });
  return { source: next, name };
}

/** Where action `name` is: its stage and its index in it. */
export function findAction(model: EditorModel, name: string): { stage: number; action: number } | undefined {
  for (let s = 0; s < model.stages.length; s += 1) {
    const a = model.stages[s]!.actions.findIndex((x) => x.name === name);
    if (a !== -1) return { stage: s, action: a };
  }
  return undefined;
}

function actionPath(source: string, name: string): (string | number)[] | undefined {
  const read = readWorkflow(source);
  if (!('model' in read)) return undefined;
  const at = findAction(read.model, name);
  return at === undefined ? undefined : ['stages', at.stage, 'actions', at.action];
}

export function removeAction(source: string, name: string): string {
  const path = actionPath(source, name);
  return path === undefined ? source : edit(source, (doc) => doc.deleteIn(path));
}

/** Set (or with `undefined`, remove) a field of action `name`: `if`, `retries`, `timeout`, `env`, `name`, `run`. */
export function setActionField(source: string, name: string, field: string, value: unknown): string {
  const path = actionPath(source, name);
  if (path === undefined) return source;
  return edit(source, (doc) => {
    if (value === undefined || value === '') doc.deleteIn([...path, field]);
    else doc.setIn([...path, field], value);
  });
}

/** Set (or with `undefined`, remove) one field of action `name`'s `with:`. */
export function setWith(source: string, name: string, key: string, value: unknown): string {
  const path = actionPath(source, name);
  if (path === undefined) return source;
  return edit(source, (doc) => {
    if (value === undefined) {
      doc.deleteIn([...path, 'with', key]);
      const left = doc.getIn([...path, 'with']);
      if (isMap(left) && left.items.length === 0) doc.deleteIn([...path, 'with']);
      return;
    }
    const current = doc.getIn([...path, 'with']);
    if (!isMap(current)) doc.setIn([...path, 'with'], doc.createNode({}));
    doc.setIn([...path, 'with', key], value);
  });
}

/** Why action `name` cannot be renamed to `to`, or undefined when it can. */
export function renameProblem(source: string, name: string, to: string): string | undefined {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(to)) return 'lowercase letters, digits and dashes, not at either end';
  if (to !== name && actionNames(parseDocument(source)).has(to)) return `an action named ${to} exists already`;
  return undefined;
}

/**
 * Rename action `from` to `to` and rewrite every expression that reads it (`actions.from…`,
 * `actions["from"]…` in any `${{ }}` of the file, and bare `if:` conditions), so that mapped
 * inputs, conditions, env and the workflow's outputs keep their sources. Other text is untouched.
 */
export function renameAction(source: string, from: string, to: string): string {
  const path = actionPath(source, from);
  if (path === undefined || from === to) return source;
  return edit(source, (doc) => {
    doc.setIn([...path, 'name'], to);
    const rewrite = (node: unknown, bare: boolean): void => {
      if (isScalar(node) && typeof node.value === 'string') {
        const next = renameInExpressions(node.value, from, to, bare);
        if (next !== node.value) node.value = next;
      }
    };
    visit(doc, {
      Pair: (_key, pair) => {
        rewrite(pair.value, isScalar(pair.key) && pair.key.value === 'if');
      },
      Seq: (_key, seq) => {
        for (const item of seq.items) rewrite(item, false);
      },
    });
  });
}
