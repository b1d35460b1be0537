import { createHash } from 'node:crypto';
import { messageOf } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { JsonValue } from '../domain/vocabulary.js';
import { renderTemplate } from '../plan/render.js';
import type { PlanAction, ResolvedComponent } from '../plan/types.js';
import type { CacheEntryRecord, MatrixPlace } from '../store/types.js';
import type { TraceSpan } from './ports.js';
import { recordTaskMove } from './record-move.js';
import type { ActionOutcome, RunHost } from './run-host.js';

/**
 * The cache key of an attempt of `action`: the sha256 of the run's workflow, the action's name
 * (a combination's own) and either its rendered `cache.key` or, without one, its component (all
 * of it but the folder it was read from), rendered event data and env. An Error when it cannot
 * be rendered, or when a rendered `cache.key` holds a secret's value.
 */
export function cacheKeyOf(host: RunHost, action: PlanAction, place?: MatrixPlace): string | Error {
  const matrix = place?.values;
  let material: JsonValue;
  if (action.cache?.key !== undefined) {
    let key: JsonValue;
    try {
      key = renderTemplate(action.cache.key, host.context(matrix));
    } catch (error) {
      return new Error(`cache.key: ${messageOf(error)}`);
    }
    const text = typeof key === 'string' ? key : JSON.stringify(key);
    if (host.masker.text(text) !== text) return new Error('cache.key holds the value of a secret: refused');
    material = { key: text };
  } else {
    const { eventData, env } = host.prepare(action, matrix);
    if (eventData instanceof Error) return eventData;
    material = { component: componentIdentity(action.component), eventData, env };
  }
  const scoped = { v: 1, workflow: host.run.workflow, action: action.name, material };
  return createHash('sha256').update(canonicalJson(scoped)).digest('hex');
}

/**
 * Record a cache hit as the task run of `action`: `succeeded` at once with the entry's outputs,
 * reason `cached from run <id>` and facts `cachedFrom` (the task run that made the entry) and
 * `cacheKey`; its `taskrun.finished` CDEvent is written, nothing is started.
 */
export async function recordCacheHit(
  host: RunHost,
  action: PlanAction,
  entry: CacheEntryRecord,
  key: string,
  span: TraceSpan,
  place?: MatrixPlace,
): Promise<ActionOutcome> {
  const { ctx } = host;
  const at = ctx.clock();
  const { eventData } = host.prepare(action, place?.values);
  const created = await ctx.store.taskRuns.create({
    id: newId(),
    runId: host.run.id,
    stage: action.stage,
    action: action.name,
    attempt: 1,
    component: `${action.component.name}@${action.component.version}`,
    executor: host.executorOf(action),
    tokenHash: null,
    eventData: eventData instanceof Error ? null : host.masker.json(eventData),
    ...(place ? { matrix: place } : {}),
    createdAt: at,
  });
  await recordTaskMove(
    ctx,
    host.run,
    created,
    ['pending'],
    'succeeded',
    {
      output: entry.output,
      result: 'success',
      reason: `cached from run ${entry.runId}`,
      facts: { cachedFrom: entry.taskRunId, cacheKey: key },
      startedAt: at,
      endedAt: at,
    },
    span,
  );
  span.set({ 'pilotage.cached_from': entry.taskRunId });
  return { state: 'succeeded', output: entry.output };
}

function componentIdentity(component: ResolvedComponent): JsonValue {
  const { dir: _dir, description: _description, ...identity } = component;
  return identity as unknown as JsonValue;
}

/** JSON with object keys sorted at every level: equal values give equal text. */
function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key]!)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
