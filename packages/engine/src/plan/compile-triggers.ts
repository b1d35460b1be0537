import { cronProblem, isTimeZone } from './cron.js';
import { didYouMean } from './did-you-mean.js';
import { ExpressionChecker } from './expression-check.js';
import type { ExpressionCompiler } from './expression-compiler.js';
import type { FieldPath } from './field-path.js';
import type { IssueList } from './issue-list.js';
import { asArray, asRecord, asString, compact, type Json } from './json-access.js';
import type { PlanTrigger, Template } from './types.js';

const PROVIDERS = ['github', 'gitlab', 'generic'] as const;

/** Names visible in webhook `inputs:` templates: the request body and its headers (lowercase). */
const webhookScope = new ExpressionChecker({ declarations: { payload: 'dyn', headers: 'map<string, string>' } });
/** Names visible in a CDEvent `filter:`: the incoming event (context, subject, customData). */
const cdeventScope = new ExpressionChecker({ declarations: { event: 'dyn' } });

/**
 * Compile `triggers:`, reporting bad cron schedules and time zones, malformed expressions, and
 * webhook inputs the workflow does not declare (when its inputs are closed).
 */
export function compileTriggers(
  value: Json,
  issues: IssueList,
  expressions: ExpressionCompiler,
  inputFields: Readonly<Record<string, unknown>> | undefined,
  requiredWithoutDefault: readonly string[] = [],
): PlanTrigger[] {
  const triggers: PlanTrigger[] = [];
  for (const [index, item] of (asArray(value) ?? []).entries()) {
    const entry = asRecord(item);
    if (entry === undefined || Object.keys(entry).length !== 1) continue;
    const path = ['triggers', index];
    const trigger =
      'webhook' in entry
        ? webhook(entry.webhook, [...path, 'webhook'], issues, expressions, inputFields)
        : 'cdevent' in entry
          ? cdevent(entry.cdevent, [...path, 'cdevent'], expressions)
          : 'cron' in entry
            ? cron(entry.cron, [...path, 'cron'], issues, requiredWithoutDefault)
            : 'manual' in entry
              ? ({ kind: 'manual' } as const)
              : undefined;
    if (trigger !== undefined) triggers.push(trigger);
  }
  return triggers;
}

function webhook(
  value: Json,
  path: FieldPath,
  issues: IssueList,
  expressions: ExpressionCompiler,
  inputFields: Readonly<Record<string, unknown>> | undefined,
): PlanTrigger | undefined {
  const spec = asRecord(value);
  const provider = PROVIDERS.find((name) => name === spec?.provider);
  if (spec === undefined || provider === undefined) return undefined;
  const events = (asArray(spec.events) ?? []).filter((event): event is string => typeof event === 'string');
  const mapping = asRecord(spec.inputs);
  let inputs: Record<string, Template> | undefined;
  if (mapping !== undefined) {
    inputs = {};
    for (const [name, template] of Object.entries(mapping)) {
      if (inputFields !== undefined && !Object.hasOwn(inputFields, name)) {
        const declared = Object.keys(inputFields);
        issues.at(
          [...path, 'inputs', name],
          `the workflow inputs have no field "${name}"${didYouMean(name, declared)}; declared: ${declared.join(', ') || 'none'}`,
          { onKey: true },
        );
      }
      inputs[name] = expressions.template(template, [...path, 'inputs', name], webhookScope).template;
    }
  }
  return compact({ kind: 'webhook' as const, provider, events, inputs });
}

function cdevent(value: Json, path: FieldPath, expressions: ExpressionCompiler): PlanTrigger | undefined {
  const spec = asRecord(value);
  const type = asString(spec?.type);
  if (spec === undefined || type === undefined) return undefined;
  const filter =
    spec.filter === undefined ? undefined : expressions.condition(spec.filter, [...path, 'filter'], cdeventScope).expr;
  return compact({ kind: 'cdevent' as const, type, filter });
}

function cron(
  value: Json,
  path: FieldPath,
  issues: IssueList,
  requiredWithoutDefault: readonly string[],
): PlanTrigger | undefined {
  const spec = asRecord(value);
  const schedule = typeof value === 'string' ? value : asString(spec?.schedule);
  const schedulePath = typeof value === 'string' ? path : [...path, 'schedule'];
  const timezone = asString(spec?.timezone);
  if (schedule === undefined) return undefined;
  // a cron run starts with no event data: it used to fail silently every time it fired
  if (requiredWithoutDefault.length > 0) {
    issues.at(
      path,
      `a cron run starts with no inputs, but the workflow requires ${requiredWithoutDefault.join(', ')} with no default; give ${requiredWithoutDefault.length === 1 ? 'it a default' : 'them defaults'} in inputs.properties`,
      { onKey: true },
    );
  }
  const problem = cronProblem(schedule);
  if (problem !== undefined) issues.at(schedulePath, problem);
  if (timezone !== undefined && !isTimeZone(timezone)) {
    issues.at(
      [...path, 'timezone'],
      `unknown time zone "${timezone}"; expected an IANA name such as Europe/Paris or UTC`,
    );
  }
  return compact({ kind: 'cron' as const, schedule: schedule.trim(), timezone });
}
