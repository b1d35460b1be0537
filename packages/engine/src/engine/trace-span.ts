import { messageOf } from '../domain/errors.js';
import type { Masker } from '../domain/masker.js';
import type { RunState, TaskRunState } from '../domain/states.js';
import { NO_SPAN, type TraceAttributes, type TraceSpan } from './ports.js';

/**
 * `span` with the run's secrets masked (`***`) in every name, attribute value and error message
 * it is given, its children too: a trace backend is one more place a secret must never reach.
 * The span that records nothing is returned as is.
 */
export function maskedSpan(span: TraceSpan, masker: Masker): TraceSpan {
  if (span === NO_SPAN || !masker.active) return span;
  const mask = (attributes: TraceAttributes | undefined): TraceAttributes | undefined => {
    if (attributes === undefined) return undefined;
    const out: Record<string, string | number | boolean | undefined> = {};
    for (const [key, value] of Object.entries(attributes))
      out[key] = typeof value === 'string' ? masker.text(value) : value;
    return out;
  };
  return {
    context: span.context,
    child: (name, attributes) => maskedSpan(span.child(masker.text(name), mask(attributes)), masker),
    event: (name, attributes) => span.event(masker.text(name), mask(attributes)),
    set: (attributes) => span.set(mask(attributes)!),
    end: (error) => span.end(error === undefined ? undefined : masker.text(error)),
  };
}

/**
 * End `span` as a run or task run that ended in `state`: `pilotage.state` and `pilotage.reason`
 * set, and an error status for `failed` and `errored` (a cancel or a skip is no error).
 */
export function endSpanAs(span: TraceSpan, state: RunState | TaskRunState, reason?: string | null): void {
  span.set({ 'pilotage.state': state, 'pilotage.reason': reason ?? undefined });
  span.end(state === 'failed' || state === 'errored' ? (reason ?? state) : undefined);
}

/**
 * Run `step` inside a child span of `span` named `name`, ended when it settles (as failed, with
 * the error's message, when it rejects). Resolves or rejects as `step` does.
 */
export async function tracedStep<T>(
  span: TraceSpan,
  name: string,
  step: () => Promise<T>,
  attributes?: TraceAttributes,
): Promise<T> {
  if (span === NO_SPAN) return step();
  const child = span.child(name, attributes);
  try {
    const value = await step();
    child.end();
    return value;
  } catch (error) {
    child.end(messageOf(error));
    throw error;
  }
}
