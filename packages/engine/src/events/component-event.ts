import { newId } from '../domain/ids.js';
import { isJsonObject, type JsonObject } from '../domain/vocabulary.js';
import { workflowSource } from './builders.js';
import { parentLink } from './links.js';
import { CDEVENTS_SPEC_VERSION, type CDEvent, type CdeventIssue, type EmbeddedLink } from './types.js';
import { validateCdevent } from './validate.js';

/**
 * Events reported by a component through `CO_CDEVENT` (an `artifact.published`, a
 * `service.deployed`…). The component sends the parts only it knows; the engine fills the
 * context, so every event in the outbox has a trustworthy source, id, time and chain.
 */

/** Where the event comes from, known to the engine (never taken from the component). */
export interface ComponentEventOrigin {
  /** the engine's advertised base URL, absolute */
  readonly engineUrl: string;
  readonly workflow: string;
  readonly runId: string;
  readonly taskRunId: string;
  /** the run's chain id */
  readonly chainId: string;
  /** when the report arrived, epoch ms */
  readonly at: number;
  /** `context.id` of the task run's `taskrun.started` event: adds a RELATION PARENT link to it */
  readonly taskRunEventId?: string;
}

/** Event types a component may not report: the engine alone speaks for runs and task runs. */
const ENGINE_ONLY = /^dev\.cdevents\.(pipelinerun|taskrun)\./;

/** Context keys a component may set; the engine owns every other one. */
const COMPONENT_CONTEXT_KEYS = new Set(['type', 'schemaUri', 'links']);

/** Result of completing a component's event. */
export type ComponentEventResult =
  { readonly ok: true; readonly event: CDEvent } | { readonly ok: false; readonly errors: readonly CdeventIssue[] };

/**
 * Turn a component's report into a full CDEvent. Accepted shape: `{ type, subject: { id,
 * source?, content }, customData?, customDataContentType? }`, where `type` may instead be given
 * as `context.type`, and `context` may also hold `schemaUri` and extra `links`. The engine sets
 * `specversion`, a new `id`, `source` (`<engineUrl>/workflows/<workflow>`), `timestamp` (`at`),
 * `chainId`, and a link to the task run; other context keys sent by the component are errors.
 * The result is validated against the schema of its type (core or `dev.cdeventsx.*`);
 * `pipelinerun.*` and `taskrun.*` types are refused.
 */
export function completeComponentEvent(partial: unknown, origin: ComponentEventOrigin): ComponentEventResult {
  if (!isJsonObject(partial))
    return fail('', 'must be a JSON object: {"type": ..., "subject": {"id": ..., "content": {...}}}');
  const { context: given, type: topType, ...rest } = partial;
  if (given !== undefined && !isJsonObject(given)) return fail('/context', 'must be object');
  const context: JsonObject = given ?? {};
  for (const key of Object.keys(context)) {
    if (!COMPONENT_CONTEXT_KEYS.has(key)) {
      return fail(`/context/${key}`, 'is set by the engine; a component may only give type, schemaUri and links');
    }
  }
  const type = topType ?? context.type;
  if (typeof type !== 'string') return fail('/type', type === undefined ? 'is required' : 'must be string');
  if (topType !== undefined && context.type !== undefined && context.type !== topType) {
    return fail('/context/type', `differs from /type "${topType}"`);
  }
  if (ENGINE_ONLY.test(type)) {
    return fail(
      '/type',
      `"${type}" is reported by the engine itself; components report other events (artifact, service, test…)`,
    );
  }
  const links: unknown[] = [];
  if (origin.taskRunEventId !== undefined) links.push(parentLink(origin.taskRunEventId) as EmbeddedLink);
  if (context.links !== undefined) {
    if (!Array.isArray(context.links)) return fail('/context/links', 'must be array');
    links.push(...context.links);
  }
  const event = {
    context: {
      specversion: CDEVENTS_SPEC_VERSION,
      id: newId(),
      source: workflowSource(origin.engineUrl, origin.workflow),
      type,
      timestamp: new Date(origin.at).toISOString(),
      chainId: origin.chainId,
      ...(context.schemaUri !== undefined ? { schemaUri: context.schemaUri } : {}),
      ...(links.length > 0 ? { links } : {}),
    },
    ...rest,
  };
  const result = validateCdevent(event);
  if (!result.ok) return { ok: false, errors: result.errors.map(fromComponentView) };
  return { ok: true, event: event as unknown as CDEvent };
}

function fail(path: string, message: string): ComponentEventResult {
  return { ok: false, errors: [{ path, message }] };
}

/** Paths as the component wrote them: its `type` sits at `/type`, not `/context/type`. */
function fromComponentView(issue: CdeventIssue): CdeventIssue {
  return issue.path === '/context/type' ? { ...issue, path: '/type' } : issue;
}
