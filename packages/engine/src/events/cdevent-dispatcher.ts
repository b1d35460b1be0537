import { messageOf, PilotageError, type ErrorCode } from '../domain/errors.js';
import type { TraceContext } from '../domain/trace-context.js';
import type { JsonValue } from '../domain/vocabulary.js';
import { evaluateExpression } from '../plan/render.js';
import type { Plan, PlanTrigger } from '../plan/types.js';
import type { WorkflowRunStarter } from '../service/workflow-run-starter.js';
import type { WorkflowStore } from '../store/types.js';
import { matchCdeventTriggers, type TriggerFilterEvaluator } from './triggers.js';
import type { CDEvent } from './types.js';

/** Start failures that concern one workflow only; anything else (the store failing) is thrown. */
const WORKFLOW_ERRORS: ReadonlySet<ErrorCode> = new Set(['VALIDATION', 'NOT_FOUND', 'CONFLICT', 'PLAN_INVALID']);

/** A run started for an incoming CDEvent. */
export interface DispatchedRun {
  readonly id: string;
  readonly workflow: string;
  readonly number: number;
}

/** A workflow whose trigger matched (or tried to) but that did not start, and why. */
export interface SkippedWorkflow {
  readonly workflow: string;
  readonly reason: string;
}

/** What an incoming CDEvent set off. */
export interface DispatchResult {
  readonly runs: readonly DispatchedRun[];
  readonly skipped: readonly SkippedWorkflow[];
}

/** Starts the workflows an incoming CDEvent triggers. */
export interface CdeventDispatcher {
  /**
   * Match `event` against the `cdevent` triggers of every enabled stored workflow (its latest
   * version) and start each match once, through the run starter, with the event as its data, a
   * `cdevent` trigger (`by` = the event's id, `details` = type and source) and the event's
   * `chainId` (its `id` when it has none). A filter that fails or gives a non-boolean, and a start
   * that fails for that workflow's sake (inputs that do not accept the event, a workflow disabled
   * or removed meanwhile), skip that workflow only and are listed in `skipped`. Anything else
   * (the store failing, the server shutting down) rejects, after cancelling the runs this
   * dispatch had started (with `cancel`): an event is handled whole or not at all.
   * The runs' spans join `traceParent` (the request's or the CloudEvent's trace) when given.
   */
  dispatch(event: CDEvent, traceParent?: TraceContext): Promise<DispatchResult>;
}

/** Dependencies of `createCdeventDispatcher`. */
export interface CdeventDispatcherDeps {
  readonly workflows: WorkflowStore;
  readonly starter: WorkflowRunStarter;
  /** evaluates a trigger's `filter` over `{ event }`; default the CEL evaluator of plans */
  readonly evaluate?: TriggerFilterEvaluator;
  /** cancels a run this dispatch started when a later start fails for another reason */
  readonly cancel?: (runId: string, reason: string) => Promise<unknown>;
}

/**
 * A dispatcher over the store's workflows. The triggers of each workflow version are read once
 * and kept (versions are immutable), so an event costs one `list` plus a read per new version.
 */
export function createCdeventDispatcher(deps: CdeventDispatcherDeps): CdeventDispatcher {
  const evaluate: TriggerFilterEvaluator = deps.evaluate ?? ((filter, scope) => evaluateExpression(filter, scope));
  /** workflow name → the version whose triggers are cached, and those triggers */
  const cache = new Map<string, { readonly version: number; readonly triggers: readonly PlanTrigger[] }>();

  async function triggersOf(name: string, version: number): Promise<readonly PlanTrigger[]> {
    const cached = cache.get(name);
    if (cached?.version === version) return cached.triggers;
    const record = await deps.workflows.getVersion(name, version);
    const triggers = (record?.plan as unknown as Plan | undefined)?.triggers ?? [];
    cache.set(name, { version, triggers });
    return triggers;
  }

  return {
    async dispatch(event, traceParent) {
      const candidates: { name: string; triggers: readonly PlanTrigger[] }[] = [];
      for (const workflow of await deps.workflows.list()) {
        if (!workflow.enabled) continue;
        const triggers = await triggersOf(workflow.name, workflow.latestVersion);
        if (triggers.some((t) => t.kind === 'cdevent')) candidates.push({ name: workflow.name, triggers });
      }
      const { matches, errors } = await matchCdeventTriggers(event, candidates, evaluate);
      const skipped: SkippedWorkflow[] = errors.map((e) => ({
        workflow: e.workflow,
        reason: `filter ${e.filter.at}: ${e.message}`,
      }));
      const runs: DispatchedRun[] = [];
      const { context } = event;
      for (const match of matches) {
        try {
          const run = await deps.starter.start({
            workflow: match.workflow,
            data: event as unknown as JsonValue,
            trigger: { kind: 'cdevent', by: context.id, details: { type: context.type, source: context.source } },
            chainId: context.chainId ?? context.id,
            ...(traceParent === undefined ? {} : { traceParent }),
          });
          runs.push({ id: run.id, workflow: run.workflow, number: run.number });
        } catch (error) {
          if (!(error instanceof PilotageError && WORKFLOW_ERRORS.has(error.code))) {
            const reason = `the CDEvent ${context.id} could not be handled whole: ${messageOf(error)}`;
            await Promise.all(runs.map((run) => deps.cancel?.(run.id, reason).catch(() => undefined)));
            throw error;
          }
          skipped.push({ workflow: match.workflow, reason: messageOf(error) });
        }
      }
      return { runs, skipped };
    },
  };
}
