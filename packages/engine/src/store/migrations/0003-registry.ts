import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/**
 * The component registry (immutable versions, deprecation) and the workflow store (a row per
 * workflow with its enabled flag and latest version number, a row per applied version with its
 * source and compiled plan).
 */
export function registryMigration(dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const json = dialect.jsonType;
      await db.schema
        .createTable('component_versions')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('search_text', 'text', (c) => c.notNull())
        .addColumn('spec', json, (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('deprecated', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('deprecation_message', 'text')
        .addColumn('dir', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addPrimaryKeyConstraint('component_versions_pkey', ['name', 'version'])
        .execute();

      await db.schema
        .createTable('workflows')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('latest_version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('workflow_versions')
        .addColumn('name', 'text', (c) => c.notNull().references('workflows.name').onDelete('cascade'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('plan', json, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addPrimaryKeyConstraint('workflow_versions_pkey', ['name', 'version'])
        .execute();
    },
  };
}
