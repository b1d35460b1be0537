import type { Command } from 'commander';
import { createTokenService } from '../../api/token-service.js';
import { parseDurationMs } from '../../domain/duration.js';
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import { isScope, type Scope } from '../../domain/scopes.js';
import { print } from '../output.js';
import { withStore } from '../with-store.js';
import { repeated } from '../repeated-option.js';

interface Flags {
  db?: string;
  json?: boolean;
}

/** `pilotage token create|list|revoke`: API tokens, written straight to the store. */
export function registerToken(program: Command): void {
  const token = program.command('token').description('API tokens of the server (stored hashed)');
  token
    .command('create')
    .description('create an API token; it is printed once and never stored')
    .requiredOption('--name <name>', 'who or what it is for')
    .option('--scope <scope>', 'read, run or admin (repeatable; each includes the ones before)', repeated, [])
    .option('--ttl <duration>', 'lifetime such as 30d; default no expiry')
    .option('--db <path|url>', 'store (PILOTAGE_DB)')
    .option('--json', 'JSON output')
    .action((flags: Flags & { name: string; scope: string[]; ttl?: string }) =>
      withStore(flags, async (store) => {
        const scopes = (flags.scope.length === 0 ? ['read'] : flags.scope).map((s): Scope => {
          if (!isScope(s)) throw new ValidationError(`--scope must be read, run or admin, got "${s}"`);
          return s;
        });
        const ttlMs = flags.ttl === undefined ? undefined : parseDurationMs(flags.ttl);
        const { token: secret, record } = await createTokenService(store.apiTokens).issue({
          name: flags.name,
          scopes,
          ...(ttlMs === undefined ? {} : { ttlMs }),
        });
        if (flags.json) return print({ token: secret, info: record });
        process.stderr.write(`token ${record.id} "${record.name}" (${record.scopes.join(', ')}); shown only now:\n`);
        print(secret);
      }),
    );
  token
    .command('list')
    .description('API tokens, newest first (never their secrets)')
    .option('--db <path|url>', 'store (PILOTAGE_DB)')
    .option('--json', 'JSON output')
    .action((flags: Flags) =>
      withStore(flags, async (store) => {
        const list = await store.apiTokens.list();
        if (flags.json) return print({ tokens: list });
        if (list.length === 0) return print('no tokens');
        for (const t of list) {
          const state =
            t.revokedAt !== null ? 'revoked' : t.expiresAt !== null && t.expiresAt < Date.now() ? 'expired' : 'live';
          print(`${t.id}  ${t.name}  ${t.scopes.join(',')}  ${state}  created ${new Date(t.createdAt).toISOString()}`);
        }
      }),
    );
  token
    .command('revoke')
    .description('revoke an API token by id')
    .argument('<id>')
    .option('--db <path|url>', 'store (PILOTAGE_DB)')
    .option('--json', 'JSON output')
    .action((id: string, flags: Flags) =>
      withStore(flags, async (store) => {
        if (!(await store.apiTokens.revoke(id, Date.now()))) throw new NotFoundError(`no live token with id ${id}`);
        print(flags.json ? { revoked: id } : `revoked ${id}`);
      }),
    );
}
