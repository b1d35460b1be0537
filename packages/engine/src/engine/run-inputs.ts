import { messageOf, ValidationError } from '../domain/errors.js';
import { refuseForbiddenKeys } from '../domain/json-text.js';
import type { Masker } from '../domain/masker.js';
import type { JsonObject, JsonValue } from '../domain/vocabulary.js';
import { renderTemplate } from '../plan/render.js';
import { applyDefaults, compileSchema } from '../plan/schema.js';
import type { Plan } from '../plan/types.js';
import type { RunParent, RunRecord, RunStore } from '../store/types.js';

/**
 * The event data of a new run of `plan`: `data` with the defaults of the plan's `inputs` applied.
 * Throws ValidationError naming the field (its message masked by `masker`) when it does not match.
 */
export function checkInputs(plan: Plan, data: JsonValue, masker: Masker): JsonObject {
  const value = data ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError('the event data of a run must be a JSON object');
  }
  refuseForbiddenKeys(value, 'data');
  if (plan.inputs === undefined) return value;
  const withDefaults = applyDefaults(plan.inputs, value) as JsonObject;
  const invalid = compileSchema(plan.inputs)(withDefaults);
  if (invalid !== undefined) {
    throw new ValidationError(
      masker.text(`the event data does not match the inputs of workflow ${plan.name}: ${invalid}`),
    );
  }
  return withDefaults;
}

/**
 * The concurrency group of a run of `plan` with `inputs`: its `group` template rendered (a
 * non-string value as JSON). Throws ValidationError when it cannot be, or is empty.
 */
export function groupName(plan: Plan, inputs: JsonObject): string {
  let value: JsonValue;
  try {
    value = renderTemplate(plan.group!.group, { inputs, run: { workflow: plan.name } });
  } catch (error) {
    throw new ValidationError(`the concurrency group of workflow ${plan.name}: ${messageOf(error)}`, { cause: error });
  }
  const name = typeof value === 'string' ? value : JSON.stringify(value);
  if (name === '')
    throw new ValidationError(`the concurrency group of workflow ${plan.name} is empty for these inputs`);
  return name;
}

/**
 * Refuse a child run of concurrency group `group` when one of its callers (the calling run, its
 * caller, …) belongs to that group: the child would wait for its own caller forever (or, with
 * `cancelInProgress`, cancel it). Throws ValidationError naming the caller.
 */
export async function refuseCallersGroup(
  workflow: string,
  group: string,
  parent: RunParent,
  runs: Pick<RunStore, 'get'>,
): Promise<void> {
  // the call depth is limited at load (maxCallDepth); the bound only guards a corrupt chain
  for (let id: string | undefined = parent.runId, hops = 0; id !== undefined && hops < 16; hops++) {
    const caller = await runs.get(id);
    if (caller === undefined) return;
    if (caller.concurrencyGroup === group) {
      throw new ValidationError(
        `workflow ${workflow} is in concurrency group ${group}, which its caller ${caller.workflow} #${caller.number} holds: it would wait for its own caller forever (give the called workflow another group)`,
      );
    }
    id = caller.parent?.runId;
  }
}

/**
 * `cancelInProgress`: cancel the runs of `run`'s concurrency group created before it that are
 * queued or running (`cancel` records the intent for the replica carrying each, or ends a
 * queued one nobody has claimed).
 */
export async function cancelGroupPeers(
  run: RunRecord,
  runs: RunStore,
  cancel: (runId: string, message: string) => Promise<void>,
): Promise<void> {
  const group = run.concurrencyGroup!;
  const peers = await runs.list({ concurrencyGroup: group, states: ['queued', 'running'], limit: 1000 });
  const message = `cancelled: run #${run.number} of concurrency group ${group} started (cancelInProgress)`;
  for (const peer of peers) if (peer.id < run.id) await cancel(peer.id, message);
}
