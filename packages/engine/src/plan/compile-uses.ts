import { PlanError } from '../domain/issue.js';
import type { CalledWorkflow, ComponentResolver } from './component-resolver.js';
import type { FieldPath } from './field-path.js';
import type { IssueList } from './issue-list.js';
import { asString, type JsonRecord } from './json-access.js';
import { PLAN_DEFAULTS, type Plan, type PlanStage, type ResolvedComponent } from './types.js';

/** Keys an action that `uses:` a workflow may have; the called workflow decides the rest. */
const USES_KEYS = new Set(['name', 'uses', 'with', 'if', 'timeout', 'retries', 'matrix']);

/** What an action that calls a workflow compiles with. */
export interface ActionCall {
  /** stands for the called workflow where a component is expected: `workflow:<name>@<version>` */
  readonly component: ResolvedComponent;
  readonly ref: string;
  readonly called: CalledWorkflow;
}

/** The component name prefix of actions that call a workflow (`workflow:deploy`). */
export const CALL_COMPONENT_PREFIX = 'workflow:';

/**
 * Resolve the workflow an action `uses:` and check the call: no keys that only components have,
 * no cycle, at most `PLAN_DEFAULTS.maxCallDepth` levels of calls below the root workflow.
 * `chain` holds the keys of the calling workflows, the root first and the current one last.
 * Reports (and returns undefined) when it cannot.
 */
export function actionWorkflow(
  action: JsonRecord,
  path: FieldPath,
  issues: IssueList,
  resolver: ComponentResolver,
  chain: readonly string[],
): ActionCall | undefined {
  for (const key of Object.keys(action)) {
    if (!USES_KEYS.has(key)) {
      issues.at(
        [...path, key],
        `${key} is not for an action that uses a workflow (the called workflow sets what runs and how); allowed: ${[...USES_KEYS].join(', ')}`,
        { onKey: true },
      );
    }
  }
  const ref = asString(action.uses);
  if (ref === undefined || ref === '') return undefined;
  const at = [...path, 'uses'];
  if (resolver.resolveWorkflow === undefined) {
    issues.at(at, 'reusable workflows cannot be resolved here');
    return undefined;
  }
  const max = PLAN_DEFAULTS.maxCallDepth;
  // the called workflow is at level `chain.length` (the root is at 0)
  if (chain.length > max) {
    issues.at(at, tooDeep(chain.length));
    return undefined;
  }
  let called: CalledWorkflow;
  try {
    called = resolver.resolveWorkflow(ref, issues.source.file, chain);
  } catch (error) {
    if (error instanceof PlanError) {
      issues.add(...error.issues);
      const files = [...new Set(error.issues.map((issue) => issue.file))].join(', ');
      issues.at(at, `workflow "${ref}" is invalid (see the issues in ${files})`);
    } else {
      issues.at(at, error instanceof Error ? error.message : String(error));
    }
    return undefined;
  }
  const depth = chain.length + callDepth(called.plan);
  if (depth > max) {
    issues.at(at, tooDeep(depth));
    return undefined;
  }
  const plan = called.plan;
  const component: ResolvedComponent = {
    name: `${CALL_COMPONENT_PREFIX}${plan.name}`,
    version: plan.version ?? '0',
    ...(plan.description === undefined ? {} : { description: plan.description }),
    ...(plan.inputs === undefined ? {} : { inputs: plan.inputs }),
    strict: false,
    env: {},
    volumes: [],
  };
  return { component, ref, called };
}

/**
 * Refuse a call that would close a cycle: `key` is already in `chain`. For resolvers, before
 * they compile the called workflow. `label` turns a key into what messages show.
 */
export function checkNoCycle(key: string, chain: readonly string[], label: (key: string) => string = (k) => k): void {
  const first = chain.indexOf(key);
  if (first < 0) return;
  const cycle = [...chain.slice(first), key].map(label).join(' → ');
  throw new Error(`a workflow may not call itself, directly or through others: ${cycle}`);
}

/**
 * How many levels of calls `plan` makes below itself (0: it calls no workflow). Called plans are
 * looked up in `workflows` (the root plan's flat map).
 */
export function callDepth(plan: Plan, workflows: Readonly<Record<string, Plan>> = plan.workflows ?? {}): number {
  let deepest = 0;
  for (const key of calledKeys(plan)) {
    const child = workflows[key];
    deepest = Math.max(deepest, 1 + (child === undefined ? 0 : callDepth(child, workflows)));
  }
  return deepest;
}

/** The keys of the workflows a plan's actions (stages and finally) call, each once. */
export function calledKeys(plan: Plan): string[] {
  const stages: readonly PlanStage[] = [...plan.stages, ...(plan.finally ?? [])];
  const keys = new Set<string>();
  for (const stage of stages) for (const action of stage.actions) if (action.uses) keys.add(action.uses.key);
  return [...keys];
}

function tooDeep(depth: number): string {
  return `workflows may call each other at most ${PLAN_DEFAULTS.maxCallDepth} levels deep; this call makes ${depth} levels`;
}
