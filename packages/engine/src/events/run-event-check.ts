import { PilotageError } from '../domain/errors.js';
import { toIssues } from './cdevent-issues.js';
import * as validators from './run-event-validators.generated.js';
import { RUN_EVENT_TYPES, type RunEventType } from './types.js';

/** A compiled validator as Ajv's standalone code exports it. */
type StandaloneValidate = ((data: unknown) => boolean) & { errors?: Parameters<typeof toIssues>[0] };

const BY_TYPE: Readonly<Record<RunEventType, StandaloneValidate>> = {
  [RUN_EVENT_TYPES.pipelineRunQueued]: validators.pipelineRunQueued,
  [RUN_EVENT_TYPES.pipelineRunStarted]: validators.pipelineRunStarted,
  [RUN_EVENT_TYPES.pipelineRunFinished]: validators.pipelineRunFinished,
  [RUN_EVENT_TYPES.taskRunStarted]: validators.taskRunStarted,
  [RUN_EVENT_TYPES.taskRunFinished]: validators.taskRunFinished,
};

/**
 * Check an event the engine built itself (one of the five run and task-run types) against its
 * official CDEvents v0.5.1 schema, with validators compiled ahead of time
 * (scripts/generate-run-event-validators.mjs): no schema is compiled while a run goes; formats
 * (URI, date-time) are checked for their shape (ajv-formats' fast forms). An invalid
 * event is a bug in Pilotage, never something to send: it throws, as `assertValidCdevent` does,
 * an `INTERNAL` error whose `details` are the issues.
 */
export function assertValidRunEvent(event: { readonly context: { readonly type: string } }): void {
  const validate = BY_TYPE[event.context.type as RunEventType];
  if (validate === undefined) {
    throw new PilotageError('INTERNAL', `built a CDEvent of type ${event.context.type}, which is no run event type`);
  }
  if (validate(event)) return;
  const issues = toIssues(validate.errors);
  const first = issues[0];
  throw new PilotageError(
    'INTERNAL',
    `built an invalid CDEvent (${first === undefined ? '?' : `${first.path}: ${first.message}`}); this is a bug in Pilotage`,
    { details: issues },
  );
}
