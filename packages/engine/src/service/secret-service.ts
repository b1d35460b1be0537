import { ValidationError } from '../domain/errors.js';
import { Masker } from '../domain/masker.js';
import { NAME_PATTERN } from '../plan/schema-defs.js';
import type { SecretRecord, SecretScope, SecretStore } from '../store/types.js';
import type { SecretCipher } from './secret-cipher.js';

/** A secret as the API and CLI show it: never its value. */
export interface SecretInfo {
  readonly name: string;
  /** `global` or `workflow:<name>` */
  readonly scope: SecretScope;
  /** the workflow of a `workflow:` scope, else null */
  readonly workflow: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly updatedBy: string | null;
}

/** The secret store as the server uses it: values go in encrypted and come out only for runs. */
export interface SecretService {
  /**
   * Create or replace secret `name` (global, or the workflow's when `workflow` is given). Throws
   * ValidationError naming the field (`params.name`, `body.value`, `body.workflow`) on a bad name,
   * workflow name or value (3 to 65536 characters: shorter values could not be masked).
   */
  set(input: { name: string; value: string; workflow?: string; by: string | null }): Promise<{
    info: SecretInfo;
    created: boolean;
  }>;
  /** Secrets (never values): all, or a workflow's own ones. */
  list(filter?: { workflow?: string }): Promise<SecretInfo[]>;
  /** false when there is no such secret */
  delete(name: string, workflow?: string): Promise<boolean>;
  /**
   * The secrets a run of `workflow` reads as `secrets.NAME`: the global ones, over which the
   * workflow's own ones win. Throws ConfigError when a value cannot be decrypted (another key).
   */
  secretsFor(workflow: string): Promise<Readonly<Record<string, string>>>;
  /**
   * `text` with every secret value this service has seen (stored, set, or given as `extra`) and
   * every form `Masker` derives from it replaced by `***`. Synchronous, for log lines. Values stay masked after
   * they are replaced or deleted: older runs may still print them.
   */
  mask(text: string): string;
  /**
   * Load every stored value into the mask (at start; other replicas' changes arrive through
   * `secretsFor`). Returns the secrets (`scope/name`) that cannot be decrypted with this key.
   */
  refresh(): Promise<string[]>;
}

/** Longest accepted value, in characters. */
export const MAX_SECRET_LENGTH = 65_536;
/** Shortest accepted value: the masker ignores shorter ones (they would mask half of every line). */
export const MIN_SECRET_LENGTH = 3;
const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const WORKFLOW_NAME = new RegExp(NAME_PATTERN);

/** The scope of a secret of `workflow` (or global). */
export function secretScope(workflow?: string): SecretScope {
  return workflow === undefined ? 'global' : `workflow:${workflow}`;
}

/**
 * The service over `store` and `cipher`. `extra` are values to mask besides the stored ones (the
 * engine's configured secrets, PILOTAGE_SECRET_*); `clock` gives epoch ms.
 */
export function createSecretService(deps: {
  store: SecretStore;
  cipher: SecretCipher;
  extra?: Iterable<string>;
  clock?: () => number;
}): SecretService {
  const clock = deps.clock ?? Date.now;
  const known = new Set<string>();
  let masker = new Masker([]);
  const remember = (values: Iterable<string>): void => {
    let added = false;
    // the masker derives the other forms (lines, JSON-escaped, URL-encoded, base64) itself
    for (const value of values) {
      if (!known.has(value)) {
        known.add(value);
        added = true;
      }
    }
    if (added) masker = new Masker(known);
  };
  remember(deps.extra ?? []);
  const context = (record: Pick<SecretRecord, 'scope' | 'name'>): string => `${record.scope}/${record.name}`;
  const reveal = (record: SecretRecord): string => deps.cipher.decrypt(record.ciphertext, context(record));

  return {
    async set(input) {
      checkName(input.name);
      if (input.workflow !== undefined) checkWorkflow(input.workflow, 'body.workflow');
      checkValue(input.value);
      const scope = secretScope(input.workflow);
      const at = clock();
      const ciphertext = deps.cipher.encrypt(input.value, context({ scope, name: input.name }));
      remember([input.value]);
      const created = await deps.store.put({ scope, name: input.name, ciphertext, updatedAt: at, updatedBy: input.by });
      const stored = await deps.store.get(scope, input.name);
      const record = stored ?? {
        scope,
        name: input.name,
        ciphertext,
        createdAt: at,
        updatedAt: at,
        updatedBy: input.by,
      };
      return { info: infoOf(record), created };
    },
    async list(filter = {}) {
      if (filter.workflow !== undefined) checkWorkflow(filter.workflow, 'query.workflow');
      const records = await deps.store.list(filter.workflow === undefined ? undefined : [secretScope(filter.workflow)]);
      return records.map(infoOf);
    },
    async delete(name, workflow) {
      if (workflow !== undefined) checkWorkflow(workflow, 'query.workflow');
      return deps.store.delete(secretScope(workflow), name);
    },
    async secretsFor(workflow) {
      const records = await deps.store.list(['global', secretScope(workflow)]);
      const out: Record<string, string> = {};
      // global first, so the workflow's own secret of the same name overwrites it
      for (const record of records.filter((r) => r.scope === 'global')) out[record.name] = reveal(record);
      for (const record of records.filter((r) => r.scope !== 'global')) out[record.name] = reveal(record);
      remember(Object.values(out));
      return out;
    },
    mask(text) {
      return masker.text(text);
    },
    async refresh() {
      const unreadable: string[] = [];
      const values: string[] = [];
      for (const record of await deps.store.list()) {
        try {
          values.push(reveal(record));
        } catch {
          unreadable.push(context(record));
        }
      }
      remember(values);
      return unreadable;
    },
  };
}

function infoOf(record: SecretRecord): SecretInfo {
  return {
    name: record.name,
    scope: record.scope,
    workflow: record.scope === 'global' ? null : record.scope.slice('workflow:'.length),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    updatedBy: record.updatedBy,
  };
}

function checkName(name: string): void {
  if (!SECRET_NAME.test(name)) {
    const message = `must be a letter or _ then letters, digits or _ (at most 128), as in NPM_TOKEN; got "${name.slice(0, 40)}"`;
    throw new ValidationError(`secret name ${message}`, { details: [{ field: 'params.name', message }] });
  }
}

function checkWorkflow(workflow: string, field: string): void {
  if (!WORKFLOW_NAME.test(workflow) || workflow.length > 63) {
    const message = `must be a workflow name (lowercase letters, digits and -), got "${workflow.slice(0, 70)}"`;
    throw new ValidationError(`${field}: ${message}`, { details: [{ field, message }] });
  }
}

function checkValue(value: string): void {
  if (value.length < MIN_SECRET_LENGTH || value.length > MAX_SECRET_LENGTH) {
    const message = `must be ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} characters (shorter values cannot be masked in logs); got ${value.length}`;
    throw new ValidationError(`body.value: ${message}`, { details: [{ field: 'body.value', message }] });
  }
}
