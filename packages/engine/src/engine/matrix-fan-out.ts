import { messageOf } from '../domain/errors.js';
import type { TaskRunState } from '../domain/states.js';
import { isTaskEnded } from '../domain/states.js';
import type { JsonObject, JsonValue } from '../domain/vocabulary.js';
import { expandMatrix, matrixKeys, matrixTaskName, type Combination } from '../plan/matrix.js';
import { renderTemplate } from '../plan/render.js';
import type { PlanAction, PlanMatrix } from '../plan/types.js';
import { attemptsOf, runAction } from './action-run.js';
import { Cancellation } from './cancellation.js';
import { recordEnded } from './record-ended.js';
import type { ActionOutcome, RunHost } from './run-host.js';
import type { TraceSpan } from './ports.js';
import { Semaphore } from './semaphore.js';
import { endSpanAs } from './trace-span.js';

/** How a matrix action ended: one state for the whole, and each combination's outputs in order. */
export interface MatrixOutcome {
  readonly state: TaskRunState;
  readonly outputs: JsonObject[];
}

/**
 * Run a matrix action: expand it (now, when it holds expressions), then run each combination as
 * its own action named `name (v1, v2)` (`runAction`, with its retries and `if:`), at most
 * `maxParallel` at once; with `failFast`, a failed combination cancels the others. A matrix that
 * cannot be expanded (an expression fails, not a list, more than 256 combinations) is one
 * `errored` task run under the action's own name; one with no combinations is `skipped`.
 *
 * The whole is `failed` if a combination failed, else `errored`, else `cancelled` if one of
 * those, else `skipped` when all were, else `succeeded`. Each combination's attempts have a span of
 * their own under `span` (the action's).
 */
export async function runMatrix(
  host: RunHost,
  action: PlanAction,
  stop: Cancellation,
  span: TraceSpan,
): Promise<MatrixOutcome> {
  const spec = action.matrix!;
  // the action's own task run ended already: the matrix failed to expand before a restart
  const whole = attemptsOf(host.existing, action.name).at(-1);
  if (whole && isTaskEnded(whole.state)) return { state: whole.state, outputs: [] };
  const expanded = expand(host, spec);
  if (typeof expanded === 'string') {
    return { state: await recordEnded(host, action, 'errored', `matrix: ${expanded}`, { span }), outputs: [] };
  }
  if (expanded.length === 0) {
    return {
      state: await recordEnded(host, action, 'skipped', 'the matrix has no combinations', { span }),
      outputs: [],
    };
  }
  const keys = matrixKeys(expanded);
  const matrixStop = new Cancellation(stop);
  const limit = spec.maxParallel === undefined ? undefined : new Semaphore(spec.maxParallel);
  const { matrix: _matrix, ...single } = action;
  const outcomes = await Promise.all(
    expanded.map(async (combination, index): Promise<ActionOutcome> => {
      const release = await limit?.acquire();
      try {
        const name = matrixTaskName(action.name, combination);
        const place = { action: action.name, index, values: padded(combination, keys) };
        const combinationSpan = span.child(`combination ${name}`, { 'pilotage.matrix.index': index });
        const outcome = await runAction(host, { ...single, name }, matrixStop, combinationSpan, place);
        endSpanAs(combinationSpan, outcome.state);
        if (spec.failFast && (outcome.state === 'failed' || outcome.state === 'errored')) {
          matrixStop.stop({ kind: 'fail-fast', message: `cancelled: ${name} ${outcome.state} (matrix failFast)` });
        }
        return outcome;
      } finally {
        release?.();
      }
    }),
  );
  return { state: wholeState(outcomes.map((o) => o.state)), outputs: outcomes.map((o) => o.output) };
}

/** The combinations of `spec`, expanded now when needed; a string says why it cannot be. */
function expand(host: RunHost, spec: PlanMatrix): readonly Combination[] | string {
  if (spec.combinations !== undefined) return spec.combinations;
  let value: JsonValue;
  try {
    value = renderTemplate(spec.template!, host.context());
  } catch (error) {
    return messageOf(error);
  }
  const result = expandMatrix(value);
  if ('combinations' in result) return result.combinations;
  return result.problems.map((p) => (p.path.length > 0 ? `${p.path.join('.')}: ${p.message}` : p.message)).join('; ');
}

/** A combination with every key of its matrix (those it lacks read as null). */
function padded(combination: Combination, keys: readonly string[]): JsonObject {
  const values: JsonObject = {};
  for (const key of keys) values[key] = combination[key] ?? null;
  return values;
}

function wholeState(states: readonly TaskRunState[]): TaskRunState {
  for (const state of ['failed', 'errored', 'cancelled'] as const) if (states.includes(state)) return state;
  return states.every((s) => s === 'skipped') ? 'skipped' : 'succeeded';
}
