import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chown, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** A throwaway PostgreSQL server in a temp dir. */
export interface PostgresServer {
  /** connection string of the database created for the caller */
  readonly url: string;
  /** the temp dir holding the cluster, the socket and the server log */
  readonly dir: string;
  /** Create another empty database; returns its connection string. */
  createDatabase(name: string): Promise<string>;
  /** Client connections open on the server (not counting the one asking). */
  clientConnections(): Promise<number>;
  /** Stop the server and remove the temp dir. Safe to repeat. */
  stop(): Promise<void>;
}

/** Where `initdb` and `pg_ctl` are, or what is missing. */
export type PostgresBinaries = { readonly bindir: string } | { readonly missing: string };

const INSTALL_HINT =
  'install the PostgreSQL server (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql)';

function hasTools(dir: string): boolean {
  return existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'));
}

/** Find `initdb` and `pg_ctl`: `pg_config --bindir`, then /usr/lib/postgresql/N/bin, then PATH. */
export async function findPostgresBinaries(): Promise<PostgresBinaries> {
  const candidates: string[] = [];
  try {
    candidates.push((await run('pg_config', ['--bindir'])).stdout.trim());
  } catch {
    // no pg_config: the client dev package is absent, the server may still be there
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(debian, v, 'bin')));
  }
  candidates.push(...(process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== ''));
  const bindir = candidates.find(hasTools);
  return bindir === undefined ? { missing: `initdb and pg_ctl not found; ${INSTALL_HINT}` } : { bindir };
}

/** The account to run the server as: ourselves, or (as root, which initdb refuses) `postgres`/`nobody`. */
function serverAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((l) => l.split(':'));
  for (const name of ['postgres', 'nobody']) {
    const entry = passwd.find((f) => f[0] === name);
    if (entry?.[2] !== undefined && entry[3] !== undefined) {
      return { uid: Number(entry[2]), gid: Number(entry[3]) };
    }
  }
  throw new Error('running as root and neither a postgres nor a nobody account exists to run initdb');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  await chown(path, uid, gid);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await chownTree(child, uid, gid);
    else await chown(child, uid, gid);
  }
}

/**
 * A PostgreSQL server for a suite's `before` hook (`startPostgres`), or undefined when the
 * binaries are missing, so that its tests skip themselves; under CI (`CI=true`) a missing
 * PostgreSQL fails instead.
 */
export async function startPostgresUnlessMissing(): Promise<PostgresServer | undefined> {
  const binaries = await findPostgresBinaries();
  if (!('missing' in binaries)) return startPostgres();
  if (process.env['CI'] === 'true') throw new Error(`postgres not installed: ${binaries.missing}`);
  return undefined;
}

/**
 * Inside a `describe` that needs PostgreSQL: true when its binaries are here. When they are not,
 * it adds a test "postgres is installed" that fails under CI (a missing service is a failure
 * there) and is skipped elsewhere, and resolves false: the suite then defines nothing else.
 */
export async function postgresForSuite(): Promise<boolean> {
  const binaries = await findPostgresBinaries();
  if (!('missing' in binaries)) return true;
  test('postgres is installed', (t) => {
    const why = `postgres not installed: ${binaries.missing}`;
    if (process.env['CI'] === 'true') throw new Error(why);
    t.skip(why);
  });
  return false;
}

/**
 * Start a PostgreSQL server for tests: `initdb` into a new temp dir, `pg_ctl start` on a free
 * localhost port with its unix socket in the temp dir, trust auth, durability settings off for
 * speed, and one database (`pilotage_test`) created. Throws when the binaries are missing (call
 * `findPostgresBinaries` first to skip instead) or the server does not come up (with its log).
 */
export async function startPostgres(): Promise<PostgresServer> {
  const binaries = await findPostgresBinaries();
  if ('missing' in binaries) throw new Error(`postgres not installed: ${binaries.missing}`);
  const { bindir } = binaries;
  const account = serverAccount();
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-pg-'));
  const data = join(dir, 'data');
  const socket = join(dir, 'socket');
  const log = join(dir, 'server.log');
  const as = { cwd: dir, env: { PATH: process.env['PATH'] ?? '', LC_ALL: 'C' }, ...account };
  let started = false;
  let stopping: Promise<void> | undefined;

  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      try {
        if (started) await run(join(bindir, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop'], as);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    })());

  try {
    await mkdir(socket);
    if (account !== undefined) await chownTree(dir, account.uid, account.gid);
    await run(
      join(bindir, 'initdb'),
      ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'],
      as,
    );
    const port = await freePort();
    const options = `-p ${port} -k ${socket} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    await run(join(bindir, 'pg_ctl'), ['-D', data, '-l', log, '-o', options, '-w', '-t', '60', 'start'], as);
    started = true;
    const urlOf = (db: string): string => `postgres://postgres@127.0.0.1:${port}/${db}`;
    const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
      const client = new pg.Client({ connectionString: urlOf('postgres') });
      await client.connect();
      try {
        return await fn(client);
      } finally {
        await client.end();
      }
    };
    const createDatabase = async (name: string): Promise<string> => {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      await admin((c) => c.query(`create database ${name}`));
      return urlOf(name);
    };
    const clientConnections = (): Promise<number> =>
      admin(async (c) => {
        const result = await c.query<{ n: string }>(
          `select count(*) as n from pg_stat_activity
            where backend_type = 'client backend' and pid <> pg_backend_pid()`,
        );
        return Number(result.rows[0]?.n ?? 0);
      });
    const url = await createDatabase('pilotage_test');
    return { url, dir, createDatabase, clientConnections, stop };
  } catch (error) {
    const serverLog = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
    await stop().catch(() => undefined);
    throw new Error(`could not start PostgreSQL from ${bindir}: ${String(error)}\n${serverLog}`, {
      cause: error,
    });
  }
}
