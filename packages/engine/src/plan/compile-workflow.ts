import { resolve } from 'node:path';
import type { JsonSchema } from '../domain/vocabulary.js';
import { celEnvironmentFor, type CelDeclaration } from './cel-environment.js';
import { celFields, closedFields } from './cel-types.js';
import { actionComponent, compileAction } from './compile-action.js';
import { compileGroup, compileRunOutputs, maxParallel } from './compile-run-options.js';
import { compileTriggers } from './compile-triggers.js';
import { actionWorkflow, type ActionCall } from './compile-uses.js';
import type { ComponentResolver } from './component-resolver.js';
import { closestMatch } from './did-you-mean.js';
import { ExpressionChecker, type ActionInfo, type ExpressionScope } from './expression-check.js';
import { ExpressionCompiler } from './expression-compiler.js';
import type { FieldPath } from './field-path.js';
import { formatPath } from './field-path.js';
import { IssueList } from './issue-list.js';
import {
  asArray,
  asStrings,
  asBoolean,
  asNumber,
  asRecord,
  asString,
  compact,
  deepFreeze,
  scalarString,
  type Json,
  type JsonRecord,
} from './json-access.js';
import { timeoutMs, userSchema } from './parse-component.js';
import { checkSchema } from './schema-check.js';
import { parseSource, type ParsedSource } from './source-doc.js';
import {
  PLAN_DEFAULTS,
  type Plan,
  type PlanAction,
  type PlanStage,
  type ResolvedComponent,
  type Template,
} from './types.js';
import { workflowJsonSchema } from './workflow-schema.js';

/**
 * Compile the text of a `workflow.yaml` (YAML or JSON) into a validated, frozen Plan.
 * `file` names the file in messages and expression positions; components are found through
 * `resolver`, and so are the workflows its actions `uses:` (`chain`: the keys of the workflows
 * calling this one and its own last, to refuse cycles; by default its absolute path). Throws
 * PlanError listing every issue of the file (and of the component and workflow files it uses):
 * syntax, schema, names, references, expressions, and `with:` values the component's inputs
 * schema rejects. Pure apart from what the resolver does. `parsed` is `parseSource(text, file)`
 * when the caller has it already (it is not changed).
 */
export function compileWorkflow(
  text: string,
  file: string,
  resolver: ComponentResolver,
  parsed: ParsedSource = parseSource(text, file),
  chain: readonly string[] = [resolve(file)],
): Plan {
  const { value, source, issues: readIssues } = parsed;
  const issues = new IssueList(source);
  issues.add(...readIssues);
  if (value === undefined) issues.throwIfAny();
  if (value === null) issues.at([], 'the file is empty: expected a workflow (apiVersion, kind, name, stages)');
  else checkSchema(value, workflowJsonSchema, issues.reporter());
  const plan = new WorkflowCompiler(issues, resolver, chain).compile(asRecord(value) ?? {});
  issues.throwIfAny();
  return deepFreeze(plan);
}

/** An action found in the first pass, with its component (or called workflow) when it resolved. */
interface ActionEntry {
  readonly record: JsonRecord;
  readonly path: FieldPath;
  readonly component?: ResolvedComponent;
  readonly call?: ActionCall;
}

interface StageEntry {
  readonly record: JsonRecord;
  /** its place among all stages: `stages` first, then `finally` */
  readonly index: number;
  /** where it is written: `['stages', 1]`, `['finally', 0]` */
  readonly path: FieldPath;
  readonly name: string;
  readonly approval: boolean;
  readonly finally: boolean;
  readonly actions: ActionEntry[];
}

const UNRESOLVED: ResolvedComponent = { name: 'unresolved', version: '0.0.0', strict: false, env: {}, volumes: [] };
const RUN_DECLARATION = { id: 'string', number: 'int', workflow: 'string', status: 'string' };

class WorkflowCompiler {
  readonly #expressions: ExpressionCompiler;
  readonly #stageNames = new Map<string, string>();
  readonly #actionNames = new Map<string, string>();

  constructor(
    private readonly issues: IssueList,
    private readonly resolver: ComponentResolver,
    private readonly chain: readonly string[],
  ) {
    this.#expressions = new ExpressionCompiler(issues);
  }

  compile(doc: JsonRecord): Plan {
    const inputs = this.inputsSchema(doc.inputs);
    const inputFields = closedFields(inputs);
    const inputsDeclaration = inputFields ? celFields(inputFields) : 'map<string, dyn>';
    const base = { inputs: inputsDeclaration, run: RUN_DECLARATION, secrets: 'map<string, string>' };
    const envScope = new ExpressionChecker({ declarations: base, ...(inputFields ? { inputFields } : {}) });
    const { env, readsSecrets: envReadsSecrets } = this.envTemplates(doc.env, ['env'], envScope);
    const triggers = compileTriggers(
      doc.triggers,
      this.issues,
      this.#expressions,
      inputFields,
      requiredWithoutDefault(inputs),
    );
    const passEnv = asStrings(doc.passEnv);
    const mainEntries = this.collectStages(doc.stages, 'stages', 0);
    const finallyEntries = this.collectStages(doc.finally, 'finally', mainEntries.length);
    const stageEntries = [...mainEntries, ...finallyEntries];
    const infos = actionInfos(stageEntries);
    const order = new Map([...infos.keys()].map((name, index) => [name, index]));
    // every stage declares all actions (the reference check keeps each to earlier stages), so
    // that one CEL environment serves them all: compile time stays linear in the workflow's size
    const declarations = {
      inputs: inputsDeclaration,
      actions: actionsDeclaration(infos),
      run: RUN_DECLARATION,
      env: 'map<string, string>',
      secrets: 'map<string, string>',
    };
    const stageEnv = celEnvironmentFor(declarations);
    // finally stages come after every stage: the ordinary rule lets them read every action
    const scopeAt = (stageIndex: number, stage: string): ExpressionScope => ({
      declarations,
      ...(inputFields ? { inputFields } : {}),
      actions: { all: infos, stageIndex, stage },
      statusFunctions: true,
    });
    const failFast = asBoolean(doc.failFast) ?? false;
    const stages = stageEntries.map((stage) =>
      this.compileStage(stage, new ExpressionChecker(scopeAt(stage.index, stage.name), stageEnv), order, {
        failFast,
        envReadsSecrets,
        passEnv,
      }),
    );
    const outputsScope = { ...scopeAt(stageEntries.length, ''), statusFunctions: false };
    const outputs = compileRunOutputs(doc.outputs, this.#expressions, new ExpressionChecker(outputsScope, stageEnv));
    const version = doc.version === undefined ? undefined : this.versionText(doc.version);
    const executor = asString(doc.executor);
    return compact({
      name: asString(doc.name) ?? '',
      version,
      file: resolve(this.issues.source.file),
      description: asString(doc.description),
      inputs,
      env,
      passEnv: passEnv.length > 0 ? passEnv : undefined,
      stages: stages.slice(0, mainEntries.length),
      triggers,
      failFast,
      timeoutMs: timeoutMs(doc.timeout, ['timeout'], this.issues),
      concurrency: maxParallel(doc, this.issues),
      maxRuns: asNumber(doc.maxRuns),
      executor: executor === 'auto' ? undefined : executor,
      finally: finallyEntries.length > 0 ? stages.slice(mainEntries.length) : undefined,
      finallyTimeoutMs: timeoutMs(doc.finallyTimeout, ['finallyTimeout'], this.issues),
      outputs,
      group: compileGroup(doc.concurrency, this.#expressions, inputFields),
      workflows: calledWorkflows(stageEntries),
    });
  }

  private inputsSchema(value: Json): JsonSchema | undefined {
    const schema = userSchema(value, ['inputs'], this.issues);
    if (schema === undefined) return undefined;
    const type = typeof schema === 'object' ? schema.type : undefined;
    if (typeof schema === 'boolean' || (type !== undefined && type !== 'object')) {
      this.issues.at(
        ['inputs'],
        'the workflow inputs must be an object schema (type: object): expressions read them as inputs.<name>',
      );
    }
    return schema;
  }

  // a version written as a YAML number (`1.10`) is kept as written, not as the float 1.1
  private versionText(value: Json): string | undefined {
    if (typeof value === 'string') return value;
    // only a scalar's span is exact (plan/common-yaml.ts); a list or mapping, which the schema
    // refuses, has no version text
    const scalar = value === null || typeof value !== 'object';
    const span = scalar ? this.issues.source.valueSpan(['version']) : undefined;
    return span === undefined ? scalarString(value) : this.issues.source.text.slice(span.start, span.end);
  }

  /** The workflow's `env:` templates, and whether any reads secrets. */
  private envTemplates(
    value: Json,
    path: FieldPath,
    checker: { check: ExpressionChecker['check'] },
  ): { env: Record<string, Template>; readsSecrets: boolean } {
    const env: Record<string, Template> = {};
    let readsSecrets = false;
    for (const [key, item] of Object.entries(asRecord(value) ?? {})) {
      const text = scalarString(item);
      if (text === undefined) continue;
      const compiled = this.#expressions.template(text, [...path, key], checker);
      env[key] = compiled.template;
      readsSecrets ||= compiled.readsSecrets;
    }
    return { env, readsSecrets };
  }

  /**
   * First pass over `stages` or `finally`: names, stage kinds, and components or called
   * workflows (their outputs type later expressions). `first` is the index of the first stage
   * among all stages.
   */
  private collectStages(value: Json, key: 'stages' | 'finally', first: number): StageEntry[] {
    const stages: StageEntry[] = [];
    const isFinally = key === 'finally';
    for (const [index, item] of (asArray(value) ?? []).entries()) {
      const record = asRecord(item);
      if (record === undefined) continue;
      const path = [key, index];
      const name = asString(record.name) ?? '';
      this.unique(this.#stageNames, name, [...path, 'name'], 'stage');
      const approval = record.type === 'approval';
      if (approval && isFinally) {
        this.issues.at([...path, 'type'], 'a finally stage cannot be an approval: it must end on its own');
      }
      const actionList = asArray(record.actions);
      if (approval && record.actions !== undefined) {
        this.issues.at(
          [...path, 'actions'],
          'an approval stage has no actions (it waits for a decision); move them to another stage',
          {
            onKey: true,
          },
        );
      }
      const misspelled = Object.keys(record).some(
        (key) => key !== 'actions' && closestMatch(key, ['actions']) !== undefined,
      );
      const noActions = record.actions === undefined ? !misspelled : actionList?.length === 0;
      if (!approval && noActions) {
        this.issues.at(path, 'a stage needs at least one action (or type: approval)');
      }
      if (!approval && record.timeout !== undefined) {
        this.issues.at(
          [...path, 'timeout'],
          'timeout is only for approval stages (how long to wait); set timeout on each action instead',
          {
            onKey: true,
          },
        );
      }
      const actions: ActionEntry[] = [];
      for (const [actionIndex, actionItem] of (approval ? [] : (actionList ?? [])).entries()) {
        const action = asRecord(actionItem);
        if (action === undefined) continue;
        const actionPath = [...path, 'actions', actionIndex];
        this.unique(this.#actionNames, asString(action.name) ?? '', [...actionPath, 'name'], 'action');
        if (action.uses !== undefined) {
          const call = actionWorkflow(action, actionPath, this.issues, this.resolver, this.chain);
          actions.push(
            call
              ? { record: action, path: actionPath, component: call.component, call }
              : { record: action, path: actionPath },
          );
          continue;
        }
        const component = actionComponent(action, actionPath, this.issues, this.resolver);
        actions.push(
          component ? { record: action, path: actionPath, component } : { record: action, path: actionPath },
        );
      }
      stages.push({ record, index: first + index, path, name, approval, finally: isFinally, actions });
    }
    return stages;
  }

  private unique(seen: Map<string, string>, name: string, path: FieldPath, what: string): void {
    if (name === '') return;
    const first = seen.get(name);
    if (first !== undefined) {
      this.issues.at(
        path,
        `duplicate ${what} name "${name}" (also at ${first}); ${what} names must be unique in the workflow`,
      );
    } else {
      seen.set(name, formatPath(path.slice(0, -1)));
    }
  }

  private compileStage(
    stage: StageEntry,
    checker: ExpressionChecker,
    order: ReadonlyMap<string, number>,
    workflow: { readonly failFast: boolean; readonly envReadsSecrets: boolean; readonly passEnv: readonly string[] },
  ): PlanStage {
    if (stage.approval) {
      return {
        name: stage.name,
        type: 'approval',
        actions: [],
        approvalTimeoutMs:
          timeoutMs(stage.record.timeout, [...stage.path, 'timeout'], this.issues) ?? PLAN_DEFAULTS.approvalTimeoutMs,
      };
    }
    const actions: PlanAction[] = [];
    for (const entry of stage.actions) {
      const ctx = {
        issues: this.issues,
        expressions: this.#expressions,
        checker,
        stage: stage.name,
        order,
        ...workflow,
        ...(entry.call ? { call: entry.call } : {}),
      };
      // an action whose component did not resolve is still checked, to report all its issues at once
      actions.push(compileAction(entry.record, entry.path, entry.component ?? UNRESOLVED, ctx));
    }
    return { name: stage.name, type: 'actions', actions };
  }
}

function actionInfos(stages: readonly StageEntry[]): Map<string, ActionInfo> {
  const infos = new Map<string, ActionInfo>();
  for (const stage of stages) {
    for (const action of stage.actions) {
      const name = asString(action.record.name);
      if (name === undefined || infos.has(name)) continue;
      const component = action.component;
      // a called workflow's outputs are the ones it declares
      const called = action.call?.called.plan;
      const outputFields = called
        ? Object.fromEntries(Object.keys(called.outputs ?? {}).map((key) => [key, {}]))
        : closedFields(component?.outputs);
      infos.set(name, {
        stage: stage.name,
        stageIndex: stage.index,
        component: component ? `${component.name}@${component.version}` : 'unresolved component',
        ...(outputFields ? { outputFields } : {}),
        ...(action.record.matrix === undefined ? {} : { matrix: true }),
        ...(stage.finally ? { finally: true } : {}),
      });
    }
  }
  return infos;
}

/** The `required` inputs that have no `default` (what a run started with no data lacks). */
function requiredWithoutDefault(schema: JsonSchema | undefined): string[] {
  if (typeof schema !== 'object' || !Array.isArray(schema.required)) return [];
  const properties = (
    typeof schema.properties === 'object' && schema.properties !== null ? schema.properties : {}
  ) as Record<string, unknown>;
  return schema.required.filter(
    (name): name is string =>
      typeof name === 'string' &&
      !(typeof properties[name] === 'object' && properties[name] !== null && 'default' in (properties[name] as object)),
  );
}

/**
 * The CEL declaration of `actions`: every action of the workflow, by name (the reference check
 * keeps each expression to earlier stages). A matrix action's outputs are a list of objects.
 */
function actionsDeclaration(infos: ReadonlyMap<string, ActionInfo>): Record<string, CelDeclaration> {
  const declaration: Record<string, CelDeclaration> = {};
  for (const [name, info] of infos) {
    const outputs = info.outputFields ? celFields(info.outputFields) : 'map<string, dyn>';
    declaration[name] = { outputs: info.matrix ? 'list<map<string, dyn>>' : outputs, status: 'string' };
  }
  return declaration;
}

/** The plans the actions call, and the ones those call, in one flat map (absent: none). */
function calledWorkflows(stages: readonly StageEntry[]): Record<string, Plan> | undefined {
  const workflows: Record<string, Plan> = {};
  for (const stage of stages) {
    for (const { call } of stage.actions) {
      if (call === undefined) continue;
      const { workflows: nested, ...plan } = call.called.plan;
      Object.assign(workflows, nested);
      workflows[call.called.key] = plan;
    }
  }
  return Object.keys(workflows).length > 0 ? workflows : undefined;
}
