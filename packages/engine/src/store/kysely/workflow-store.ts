import { sql, type Selectable } from 'kysely';
import type { JsonValue } from '../../domain/vocabulary.js';
import { deepFreeze } from '../../plan/json-access.js';
import type {
  AppliedWorkflowVersion,
  NewWorkflowVersion,
  WorkflowRecord,
  WorkflowStore,
  WorkflowVersionRecord,
} from '../types.js';
import type { WorkflowsTable, WorkflowVersionsTable } from './schema.js';
import type { StoreContext } from './store-context.js';

/** Workflow versions kept in memory by one store handle (their plans decoded). */
const RECENT_VERSIONS = 64;

/** `WorkflowStore` over Kysely; see the interface for the contract. */
export class KyselyWorkflowStore implements WorkflowStore {
  readonly #ctx: StoreContext;
  /**
   * Versions read lately, frozen: a version never changes once applied, and every run start reads
   * the one it runs (with its plan, decoded) two times; on PostgreSQL each read is a round trip.
   */
  readonly #recent = new Map<string, WorkflowVersionRecord>();

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  apply(input: NewWorkflowVersion): Promise<{ version: AppliedWorkflowVersion; created: boolean }> {
    return this.#ctx.use((db) =>
      db.transaction().execute(async (trx) => {
        // The upsert creates the workflow (version 0 until the insert below) or touches its row,
        // which row-locks it on PostgreSQL until commit: concurrent applies of one workflow queue
        // here, so each sees the version the previous one wrote and numbers never collide.
        const head = await trx
          .insertInto('workflows')
          .values({ name: input.name, enabled: 1, latest_version: 0, created_at: input.at, updated_at: input.at })
          .onConflict((oc) => oc.column('name').doUpdateSet({ name: sql`excluded.name` }))
          .returning('latest_version')
          .executeTakeFirstOrThrow();
        const latest = head.latest_version;
        if (latest > 0) {
          // not the plan: a large one would be decoded for nothing
          const current = await trx
            .selectFrom('workflow_versions')
            .select(['name', 'version', 'source', 'digest', 'created_at', 'created_by'])
            .where('name', '=', input.name)
            .where('version', '=', latest)
            .executeTakeFirstOrThrow();
          if (current.digest === input.digest) return { version: appliedVersion(current), created: false };
        }
        const version: AppliedWorkflowVersion = {
          name: input.name,
          version: latest + 1,
          source: input.source,
          digest: input.digest,
          createdAt: input.at,
          createdBy: input.by,
        };
        await trx
          .insertInto('workflow_versions')
          .values({
            name: version.name,
            version: version.version,
            source: version.source,
            digest: version.digest,
            plan: input.planJson,
            created_at: version.createdAt,
            created_by: version.createdBy,
          })
          .execute();
        await trx
          .updateTable('workflows')
          .set({ latest_version: version.version, updated_at: input.at })
          .where('name', '=', input.name)
          .execute();
        return { version, created: true };
      }),
    );
  }

  get(name: string): Promise<WorkflowRecord | undefined> {
    return this.#ctx.use(async (db) => {
      const row = await db.selectFrom('workflows').selectAll().where('name', '=', name).executeTakeFirst();
      return row === undefined || row.latest_version === 0 ? undefined : toWorkflow(row);
    });
  }

  list(): Promise<WorkflowRecord[]> {
    return this.#ctx.use(async (db) => {
      const rows = await db
        .selectFrom('workflows')
        .selectAll()
        .where('latest_version', '>', 0)
        .orderBy('name')
        .execute();
      return rows.map(toWorkflow);
    });
  }

  getVersion(name: string, version: number): Promise<WorkflowVersionRecord | undefined> {
    const key = `${name}@${version}`;
    const cached = this.#recent.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    return this.#ctx.use(async (db) => {
      const row = await db
        .selectFrom('workflow_versions')
        .selectAll()
        .where('name', '=', name)
        .where('version', '=', version)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      const record = deepFreeze(this.#version(row));
      if (this.#recent.size >= RECENT_VERSIONS) this.#recent.delete(this.#recent.keys().next().value as string);
      this.#recent.set(key, record);
      return record;
    });
  }

  versions(name: string): Promise<WorkflowVersionRecord[]> {
    return this.#ctx.use(async (db) => {
      const rows = await db
        .selectFrom('workflow_versions')
        .selectAll()
        .where('name', '=', name)
        .orderBy('version', 'desc')
        .execute();
      return rows.map((row) => this.#version(row));
    });
  }

  setEnabled(name: string, enabled: boolean, at: number): Promise<boolean> {
    return this.#ctx.use(async (db) => {
      const result = await db
        .updateTable('workflows')
        .set({ enabled: enabled ? 1 : 0, updated_at: at })
        .where('name', '=', name)
        .where('latest_version', '>', 0)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    });
  }

  #version(row: Selectable<WorkflowVersionsTable>): WorkflowVersionRecord {
    return { ...appliedVersion(row), plan: this.#ctx.dialect.decodeJson(row.plan) as JsonValue };
  }
}

function appliedVersion(row: Omit<Selectable<WorkflowVersionsTable>, 'plan'>): AppliedWorkflowVersion {
  return {
    name: row.name,
    version: row.version,
    source: row.source,
    digest: row.digest,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

function toWorkflow(row: Selectable<WorkflowsTable>): WorkflowRecord {
  return {
    name: row.name,
    enabled: row.enabled === 1,
    latestVersion: row.latest_version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
