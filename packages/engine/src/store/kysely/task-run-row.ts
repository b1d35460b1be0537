import { sql, type RawBuilder, type Selectable, type Updateable } from 'kysely';
import type { JsonObject, JsonValue } from '../../domain/vocabulary.js';
import type { ContractStep, MatrixPlace, TaskRunPatch, TaskRunRecord } from '../types.js';
import type { TaskRunsTable } from './schema.js';
import type { StoreDialect } from './store-dialect.js';

/** A `task_runs` row as the `TaskRunRecord` the engine sees. */
export function toTaskRunRecord(row: Selectable<TaskRunsTable>, dialect: StoreDialect): TaskRunRecord {
  return {
    id: row.id,
    runId: row.run_id,
    stage: row.stage,
    action: row.action,
    attempt: row.attempt,
    state: row.state,
    component: row.component,
    executor: row.executor,
    tokenHash: row.token_hash,
    eventData: dialect.decodeJson(row.event_data) as JsonValue,
    output: dialect.decodeJson(row.output) as JsonObject,
    result: row.result,
    message: row.message,
    reason: row.reason,
    exitCode: row.exit_code,
    ref: row.ref,
    facts: dialect.decodeJson(row.facts) as Record<string, string>,
    steps: dialect.decodeJson(row.steps) as TaskRunRecord['steps'],
    matrix: row.matrix === null ? null : (dialect.decodeJson(row.matrix) as MatrixPlace),
    statusCount: Number(row.status_seq),
    dropped: {
      statuses: Number(row.statuses_dropped),
      logLines: Number(row.log_lines_dropped),
      logBytes: Number(row.log_bytes_dropped),
    },
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
}

/** The columns a `TaskRunPatch` sets; absent keys are left alone, `null` clears. */
export function taskRunPatchColumns(patch: TaskRunPatch, dialect: StoreDialect): Updateable<TaskRunsTable> {
  const set: Updateable<TaskRunsTable> = {};
  if (patch.output !== undefined) set.output = dialect.encodeJson(patch.output);
  if (patch.result !== undefined) set.result = patch.result;
  if (patch.message !== undefined) set.message = patch.message;
  if (patch.reason !== undefined) set.reason = patch.reason;
  if (patch.exitCode !== undefined) set.exit_code = patch.exitCode;
  if (patch.ref !== undefined) set.ref = patch.ref;
  if (patch.facts !== undefined) set.facts = dialect.encodeJson(patch.facts);
  if (patch.startedAt !== undefined) set.started_at = patch.startedAt;
  if (patch.endedAt !== undefined) set.ended_at = patch.endedAt;
  return set;
}

/**
 * SQL: the `steps` column with `step` recorded at `at`, unless it is recorded already (the first
 * time wins). A CASE, for statements that write the task run's row anyway; `markStep`, which has
 * nothing else to write, puts the condition in its WHERE instead.
 */
export function stepMarkedOnce(dialect: StoreDialect, step: ContractStep, at: number): RawBuilder<string> {
  return sql<string>`case when ${dialect.jsonLacksKey('steps', step)} then ${dialect.jsonWithNumber(
    'steps',
    step,
    at,
  )} else ${sql.ref('steps')} end`;
}
