import type { Kysely } from 'kysely';
import { LeaseLostError } from '../../domain/errors.js';
import type { RunState } from '../../domain/states.js';
import type { NewOutboxEvent, RunPatch } from '../types.js';
import { moveAndRecord } from './move-and-record.js';
import type { StoreSchema } from './schema.js';
import type { StoreDialect } from './store-dialect.js';

/** Who may move the run: anyone, only replica `owner` while it holds it, or only while nobody does. */
export type RunHolder = { readonly owner: string } | 'anyone' | 'nobody';

/** One compare-and-set move of a run (`RunStore.transition`). */
export interface RunMove {
  readonly id: string;
  readonly from: readonly RunState[];
  readonly to: RunState;
  readonly at: number;
  readonly patch: RunPatch;
  readonly events: readonly NewOutboxEvent[];
}

/**
 * Move a run as `move` says (in `db`'s transaction if it is one; as `moveAndRecord`, one
 * statement on PostgreSQL): one compare-and-set update (state in `from`, and the
 * holder condition), then its transition row and events. False, having written nothing, when
 * the run was not in `from` (or, for `nobody`, was held); LeaseLostError when `holder` is a
 * replica that does not hold it. On PostgreSQL an update re-checks its conditions after waiting
 * for a concurrent takeover, so a takeover that committed first wins. `previous_state = state`
 * captures the state it replaced (SET sees the old row), so the transition row needs no read.
 */
export async function moveRun(
  db: Kysely<StoreSchema>,
  dialect: StoreDialect,
  move: RunMove,
  holder: RunHolder,
): Promise<boolean> {
  const { id, from, to, at, patch } = move;
  if (from.length === 0) return false;
  const update = db
    .updateTable('runs')
    .set((eb) => ({
      previous_state: eb.ref('state'),
      state: to,
      ...(patch.reason !== undefined && { reason: patch.reason }),
      ...(patch.outputs !== undefined && { outputs: dialect.encodeJson(patch.outputs) }),
      ...(patch.startedAt !== undefined && { started_at: patch.startedAt }),
      ...(patch.endedAt !== undefined && { ended_at: patch.endedAt }),
      ...(patch.workspaceKept !== undefined && {
        workspace_state: 'kept' as const,
        workspace_expires_at: patch.workspaceKept.expiresAt,
      }),
    }))
    .where('id', '=', id)
    .where('state', 'in', from)
    .$if(holder === 'nobody', (qb) => qb.where('owner', 'is', null))
    .$if(typeof holder === 'object', (qb) => qb.where('owner', '=', typeof holder === 'object' ? holder.owner : ''))
    .returning('previous_state')
    .compile();
  const change = { entityId: id, to, at, reason: patch.reason ?? null };
  if (await moveAndRecord(db, dialect, update, change, move.events)) return true;
  if (typeof holder === 'object') {
    const row = await db.selectFrom('runs').select('owner').where('id', '=', id).executeTakeFirst();
    if (row !== undefined && row.owner !== holder.owner) throw LeaseLostError.heldBy(id, row.owner);
  }
  return false;
}
