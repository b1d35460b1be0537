import type { Migration, MigrationProvider } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';
import { initialMigration } from './0001-initial.js';

/**
 * The migrations, listed in code so a bundled or installed engine never scans the filesystem.
 * Names sort in the order they apply; never rename or edit one that has shipped, add the next.
 */
export class StaticMigrationProvider implements MigrationProvider {
  readonly #dialect: StoreDialect;

  constructor(dialect: StoreDialect) {
    this.#dialect = dialect;
  }

  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve({
      '0001-initial': initialMigration(this.#dialect),
    });
  }
}
