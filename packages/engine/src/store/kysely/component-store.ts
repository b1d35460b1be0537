import { sql, type Selectable } from 'kysely';
import { ConflictError } from '../../domain/errors.js';
import type { JsonObject } from '../../domain/vocabulary.js';
import { compareVersions } from '../../plan/version-range.js';
import type { ComponentFilter, ComponentStore, ComponentVersionRecord } from '../types.js';
import { chunked } from './chunked.js';
import type { ComponentVersionsTable } from './schema.js';
import type { StoreContext } from './store-context.js';

/**
 * `ComponentStore` over Kysely; see the interface for the contract. Versions are text in the
 * table and ordered by semver precedence in code (`compareVersions`): SQL cannot sort `1.10.0`
 * after `1.9.0` on both dialects, and a component has few versions.
 */
export class KyselyComponentStore implements ComponentStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  register(record: Omit<ComponentVersionRecord, 'deprecated' | 'deprecationMessage'>): Promise<void> {
    return this.#ctx.use(async (db) => {
      const description = typeof record.spec.description === 'string' ? record.spec.description : '';
      const inserted = await db
        .insertInto('component_versions')
        .values({
          name: record.name,
          version: record.version,
          search_text: `${record.name}\n${description}`.toLowerCase(),
          spec: this.#ctx.dialect.encodeJson(record.spec),
          source: record.source,
          deprecated: 0,
          deprecation_message: null,
          dir: record.dir ?? null,
          created_at: record.createdAt,
          created_by: record.createdBy,
        })
        .onConflict((oc) => oc.columns(['name', 'version']).doNothing())
        .returning('name')
        .executeTakeFirst();
      if (inserted === undefined) {
        throw new ConflictError(
          `component ${record.name}@${record.version} is already registered; versions are immutable, register a new version`,
        );
      }
    });
  }

  get(name: string, version: string): Promise<ComponentVersionRecord | undefined> {
    return this.#ctx.use(async (db) => {
      const row = await db
        .selectFrom('component_versions')
        .selectAll()
        .where('name', '=', name)
        .where('version', '=', version)
        .executeTakeFirst();
      return row === undefined ? undefined : this.#record(row);
    });
  }

  versions(name: string): Promise<ComponentVersionRecord[]> {
    return this.#ctx.use(async (db) => {
      const rows = await db.selectFrom('component_versions').selectAll().where('name', '=', name).execute();
      return rows.map((row) => this.#record(row)).sort((a, b) => compareVersions(b.version, a.version));
    });
  }

  list(filter: ComponentFilter = {}): Promise<ComponentVersionRecord[]> {
    return this.#ctx.use(async (db) => {
      let query = db.selectFrom('component_versions').select(['name', 'version']);
      if (filter.includeDeprecated !== true) query = query.where('deprecated', '=', 0);
      if (filter.query !== undefined && filter.query !== '') {
        const pattern = `%${filter.query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        query = query.where(sql<boolean>`search_text like ${pattern} escape '\\'`);
      }
      const newest = new Map<string, string>();
      for (const { name, version } of await query.execute()) {
        const seen = newest.get(name);
        if (seen === undefined || compareVersions(version, seen) > 0) newest.set(name, version);
      }
      const out: ComponentVersionRecord[] = [];
      // a few hundred pairs per query keeps the OR chain under SQLite's expression depth limit
      for (const slice of chunked([...newest], 200)) {
        const rows = await db
          .selectFrom('component_versions')
          .selectAll()
          .where((eb) =>
            eb.or(slice.map(([name, version]) => eb.and([eb('name', '=', name), eb('version', '=', version)]))),
          )
          .execute();
        out.push(...rows.map((row) => this.#record(row)));
      }
      return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    });
  }

  deprecate(name: string, version: string, message: string | null): Promise<boolean> {
    return this.#ctx.use(async (db) => {
      const result = await db
        .updateTable('component_versions')
        .set({ deprecated: 1, deprecation_message: message })
        .where('name', '=', name)
        .where('version', '=', version)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    });
  }

  #record(row: Selectable<ComponentVersionsTable>): ComponentVersionRecord {
    return {
      name: row.name,
      version: row.version,
      spec: this.#ctx.dialect.decodeJson(row.spec) as JsonObject,
      source: row.source,
      deprecated: row.deprecated === 1,
      deprecationMessage: row.deprecation_message,
      dir: row.dir,
      createdAt: row.created_at,
      createdBy: row.created_by,
    };
  }
}
