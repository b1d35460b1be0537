import { expressionBuilder, sql, type Expression, type SqlBool } from 'kysely';
import type { StoreSchema } from './schema.js';
import type { StoreDialect } from './store-dialect.js';

/** A column naming the replica that holds a row (a run, a `maxParallel` slot). */
export type HolderColumn = 'runs.owner' | 'parallel_slots.owner';

/**
 * True where the replica named in `holder` holds no live lease now: no `replicas` row of that id
 * whose `expires_at` is not past (the replica died, stopped, or was forgotten). What a takeover
 * of a run and the reuse of a slot both test; the SQL clock (`dialect.nowMs()`) is read, so
 * replicas with skewed clocks agree. A null holder has no live lease either (`NOT EXISTS` of an
 * empty subquery): callers that tell "nobody" from "a dead replica" test `is null` themselves.
 */
export function withoutLiveLease(holder: HolderColumn, dialect: StoreDialect): Expression<SqlBool> {
  const eb = expressionBuilder<StoreSchema, never>();
  return eb.not(
    eb.exists(
      eb
        .selectFrom('replicas')
        .select('replicas.id')
        .where('replicas.id', '=', sql.ref<string>(holder))
        .where('replicas.expires_at', '>=', dialect.nowMs()),
    ),
  );
}
