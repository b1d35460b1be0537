import type { Expression, PlanTrigger } from '../plan/types.js';
import { matchesTypePattern } from './type-pattern.js';
import type { CDEvent } from './types.js';

/** A `cdevent` trigger of a workflow. */
export type CdeventTrigger = Extract<PlanTrigger, { kind: 'cdevent' }>;

/**
 * Evaluates a trigger's `filter` over `{ event }` (the whole CDEvent). Passed in so this module
 * stays independent of the expression engine; may be sync or async. Only `true` matches.
 */
export type TriggerFilterEvaluator = (filter: Expression, scope: { readonly event: CDEvent }) => unknown;

/** A workflow to start for an event, with the trigger that matched. */
export interface TriggerMatch {
  readonly workflow: string;
  readonly trigger: CdeventTrigger;
}

/** A filter that could not be evaluated (the workflow is not started). */
export interface TriggerFilterError {
  readonly workflow: string;
  readonly filter: Expression;
  readonly message: string;
}

/**
 * The workflows whose `cdevent` triggers match `event`: the trigger's `type` is a pattern
 * (`type-pattern.ts`: exact, unversioned = any version, or a `*` glob) and its optional
 * `filter` must evaluate to `true`. Each workflow matches at most once (its first matching
 * trigger). A filter that throws or returns a non-boolean does not match and is reported in
 * `errors`, so one broken workflow never blocks the others.
 */
export async function matchCdeventTriggers(
  event: CDEvent,
  workflows: readonly { readonly name: string; readonly triggers: readonly PlanTrigger[] }[],
  evaluate: TriggerFilterEvaluator,
): Promise<{ matches: TriggerMatch[]; errors: TriggerFilterError[] }> {
  const matches: TriggerMatch[] = [];
  const errors: TriggerFilterError[] = [];
  for (const workflow of workflows) {
    for (const trigger of workflow.triggers) {
      if (trigger.kind !== 'cdevent' || !matchesTypePattern(trigger.type, event.context.type)) continue;
      if (trigger.filter !== undefined) {
        let value: unknown;
        try {
          value = await evaluate(trigger.filter, { event });
        } catch (error) {
          errors.push({ workflow: workflow.name, filter: trigger.filter, message: errorText(error) });
          continue;
        }
        if (typeof value !== 'boolean') {
          errors.push({
            workflow: workflow.name,
            filter: trigger.filter,
            message: `the filter at ${trigger.filter.at} must give true or false, got ${JSON.stringify(value) ?? String(value)}`,
          });
          continue;
        }
        if (!value) continue;
      }
      matches.push({ workflow: workflow.name, trigger });
      break;
    }
  }
  return { matches, errors };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
