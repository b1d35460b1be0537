import type { Command } from 'commander';
import { redactStoreUrl } from '../../store/parse-store-url.js';
import { openStore } from '../../store/open-store.js';
import type { ReplicaRecord, SchemaStatus, Store } from '../../store/types.js';
import { EXIT, print, reportError } from '../output.js';
import { configFrom } from '../runtime-flags.js';

interface Flags {
  db?: string;
  json?: boolean;
}

/**
 * Open the configured store without touching its schema, run `fn`, close it; an error is
 * reported (as JSON with `json`) and sets the exit code.
 */
async function withSchema(flags: Flags, fn: (store: Store, url: string) => Promise<void>): Promise<void> {
  let store: Store | undefined;
  try {
    const url = configFrom({ db: flags.db }).db;
    store = await openStore({ url, migrate: 'none' });
    await fn(store, url);
    process.exitCode ??= EXIT.ok;
  } catch (error) {
    process.exitCode = reportError(error, flags.json === true);
  } finally {
    await store?.close();
  }
}

/** `ago` as a short human duration (`3s ago`, `in 12s`). */
function relative(at: number, now: number): string {
  const s = Math.round((now - at) / 1000);
  return s >= 0 ? `${s}s ago` : `in ${-s}s`;
}

function schemaLine(schema: SchemaStatus): string {
  const parts = [`${schema.applied.length} migrations applied`];
  if (schema.pending.length > 0)
    parts.push(`${schema.pending.length} pending (${schema.pending.join(', ')}): run pilotage db migrate`);
  if (schema.newer.length > 0) parts.push(`newer than this engine: ${schema.newer.join(', ')} (an upgrade under way?)`);
  if (schema.pending.length === 0 && schema.newer.length === 0) parts.push('up to date');
  return parts.join('; ');
}

function replicaLine(r: ReplicaRecord, now: number): string {
  const state = r.alive ? 'live' : 'gone';
  return `  ${r.id}  ${state}  ${r.host} pid ${r.pid}  v${r.version}  ${r.runs} run(s)  heartbeat ${relative(r.heartbeatAt, now)}${r.url === null ? '' : `  ${r.url}`}`;
}

/** `pilotage db migrate|status`: the store's schema and how the replicas sharing it stand. */
export function registerDb(program: Command): void {
  const db = program.command('db').description('the store: its schema (migrations) and the replicas sharing it');
  db.command('migrate')
    .description(
      'apply the pending migrations (once, whichever replicas or jobs run it together: a lock); for deployments that start replicas with PILOTAGE_AUTO_MIGRATE=false',
    )
    .option('--db <path|url>', 'store (PILOTAGE_DB)')
    .option('--json', 'JSON output')
    .action((flags: Flags) =>
      withSchema(flags, async (store, url) => {
        const applied = await store.schema.migrate();
        const status = await store.schema.status();
        if (flags.json) return print({ store: redactStoreUrl(url), applied, status });
        print(
          applied.length === 0
            ? `${redactStoreUrl(url)}: nothing to apply; ${schemaLine(status)}`
            : `${redactStoreUrl(url)}: applied ${applied.join(', ')}; ${schemaLine(status)}`,
        );
      }),
    );
  db.command('status')
    .description(
      'the schema (applied, pending and newer migrations), the replicas (live or gone, version, runs held) and how the unended runs stand; changes nothing',
    )
    .option('--db <path|url>', 'store (PILOTAGE_DB)')
    .option('--json', 'JSON output')
    .action((flags: Flags) =>
      withSchema(flags, async (store, url) => {
        const schema = await store.schema.status();
        // a database without the replica tables yet says so instead of failing
        const ready = !schema.pending.includes('0060-replicas');
        const replicas = ready ? await store.replicas.list() : [];
        const runs = ready ? await store.leases.summary() : undefined;
        const slots = ready ? await store.slots.held() : undefined;
        if (flags.json) {
          return print({
            store: redactStoreUrl(url),
            dialect: store.dialect,
            schema,
            replicas,
            runs,
            slotsHeld: slots,
          });
        }
        const now = Date.now();
        print(`store     ${redactStoreUrl(url)} (${store.dialect})`);
        print(`schema    ${schemaLine(schema)}`);
        const live = replicas.filter((r) => r.alive).length;
        print(`replicas  ${live} live, ${replicas.length - live} gone`);
        for (const r of replicas) print(replicaLine(r, now));
        if (runs !== undefined) {
          print(
            `runs      ${runs.held} held by live replicas, ${runs.unclaimed} queued and unclaimed, ${runs.orphaned} to be taken over`,
          );
        }
        if (slots !== undefined) print(`slots     ${slots} task slot(s) held (maxParallel across the replicas)`);
      }),
    );
}
