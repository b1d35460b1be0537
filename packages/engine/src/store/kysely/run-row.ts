import type { Selectable } from 'kysely';
import type { JsonObject, JsonValue } from '../../domain/vocabulary.js';
import type { RunRecord, TriggerInfo } from '../types.js';
import type { RunsTable } from './schema.js';
import type { StoreDialect } from './store-dialect.js';

/** A `runs` row as the `RunRecord` the engine sees. */
export function toRunRecord(row: Selectable<RunsTable>, dialect: StoreDialect): RunRecord {
  return {
    id: row.id,
    number: row.number,
    workflow: row.workflow,
    workflowVersion: row.workflow_version,
    state: row.state,
    inputs: dialect.decodeJson(row.inputs) as JsonObject,
    plan: dialect.decodeJson(row.plan) as JsonValue,
    trigger: dialect.decodeJson(row.trigger_info) as TriggerInfo,
    chainId: row.chain_id,
    reason: row.reason,
    owner: row.owner,
    outputs: row.outputs === null ? null : (dialect.decodeJson(row.outputs) as JsonObject),
    parent: row.parent_run_id === null ? null : { runId: row.parent_run_id, taskRunId: row.parent_task_run_id ?? '' },
    concurrencyGroup: row.concurrency_group,
    workspace: { from: row.workspace_from, state: row.workspace_state, expiresAt: row.workspace_expires_at },
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
}
