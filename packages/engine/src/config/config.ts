import { join } from 'node:path';
import { ConfigError } from '../domain/errors.js';
import { parseDurationMs } from '../domain/duration.js';

/** Which executor runs actions that name none. `auto`: docker when a Docker API answers, else local. */
export type ExecutorChoice = 'local' | 'docker' | 'kubernetes' | 'auto';

/** The engine's frozen configuration. Built only by `loadConfig`; nothing else reads process.env. */
export interface Config {
  /** store: a SQLite file path, `:memory:`, or a postgres:// URL */
  readonly db: string;
  /** folder for the default database and run workspaces */
  readonly dataDir: string;
  /** folder holding one workspace folder per run */
  readonly workspaceRoot: string;
  readonly executor: ExecutorChoice;
  /** Docker Engine API endpoint (DOCKER_HOST form), if set */
  readonly dockerHost: string | undefined;
  /** URL at which containers and pods reach this engine; default: the loopback URL */
  readonly advertiseUrl: string | undefined;
  /** interface and port of the embedded callback server (`pilotage run`) */
  readonly callbackHost: string;
  readonly callbackPort: number;
  readonly killGraceMs: number;
  readonly stopGraceMs: number;
  readonly maxParallel: number;
  readonly keepWorkspace: boolean;
  readonly logLevel: string;
  /** where CDEvents are delivered: `stdout`, a JSONL file path or an http(s) URL (binary mode) */
  readonly eventSinks: readonly string[];
  /** secrets every run may read (`PILOTAGE_SECRET_<NAME>`), masked everywhere */
  readonly secrets: Readonly<Record<string, string>>;
}

/** Keys settable by flags (camelCase) and their env var. One env var per key. */
export const CONFIG_ENV: Readonly<Record<Exclude<keyof Config, 'secrets'>, string>> = {
  db: 'PILOTAGE_DB',
  dataDir: 'PILOTAGE_DATA_DIR',
  workspaceRoot: 'PILOTAGE_WORKSPACE_ROOT',
  executor: 'PILOTAGE_EXECUTOR',
  dockerHost: 'DOCKER_HOST',
  advertiseUrl: 'PILOTAGE_ADVERTISE_URL',
  callbackHost: 'PILOTAGE_CALLBACK_HOST',
  callbackPort: 'PILOTAGE_CALLBACK_PORT',
  killGraceMs: 'PILOTAGE_KILL_GRACE',
  stopGraceMs: 'PILOTAGE_STOP_GRACE',
  maxParallel: 'PILOTAGE_MAX_PARALLEL',
  keepWorkspace: 'PILOTAGE_KEEP_WORKSPACE',
  logLevel: 'PILOTAGE_LOG_LEVEL',
  eventSinks: 'PILOTAGE_EVENT_SINKS',
};

/** Defaults, units in the names. */
export const CONFIG_DEFAULTS = {
  executor: 'local' as ExecutorChoice,
  callbackHost: '127.0.0.1',
  callbackPort: 0,
  killGraceMs: 5000,
  stopGraceMs: 5000,
  maxParallel: 64,
  keepWorkspace: false,
  logLevel: 'info',
};

type Overrides = Partial<Record<keyof typeof CONFIG_ENV, string | number | boolean | readonly string[] | undefined>>;

/**
 * Build the configuration: flags win over env vars, env vars over defaults. `home` is the
 * user's home folder. Unknown flag keys and bad values throw ConfigError naming the key.
 */
export function loadConfig(input: { env: NodeJS.ProcessEnv; home: string; flags?: Overrides }): Config {
  const { env, home } = input;
  const flags = input.flags ?? {};
  for (const key of Object.keys(flags)) {
    if (!(key in CONFIG_ENV)) throw new ConfigError(`unknown configuration key "${key}"`);
  }
  const pick = (key: keyof typeof CONFIG_ENV): string | undefined => {
    const flag = flags[key];
    if (Array.isArray(flag)) return flag.length > 0 ? flag.join(',') : undefined;
    if (flag !== undefined && flag !== '') return String(flag);
    const fromEnv = env[CONFIG_ENV[key]];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  };
  const dataDir = pick('dataDir') ?? join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'pilotage');
  const executor = pick('executor') ?? CONFIG_DEFAULTS.executor;
  if (!['local', 'docker', 'kubernetes', 'auto'].includes(executor)) {
    throw new ConfigError(
      `executor (${CONFIG_ENV.executor}) must be local, docker, kubernetes or auto, got "${executor}"`,
    );
  }
  const secrets: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('PILOTAGE_SECRET_') && value !== undefined) secrets[name.slice(16)] = value;
  }
  return Object.freeze({
    db: pick('db') ?? join(dataDir, 'pilotage.db'),
    dataDir,
    workspaceRoot: pick('workspaceRoot') ?? join(dataDir, 'workspaces'),
    executor: executor as ExecutorChoice,
    dockerHost: pick('dockerHost'),
    advertiseUrl: pick('advertiseUrl'),
    callbackHost: pick('callbackHost') ?? CONFIG_DEFAULTS.callbackHost,
    callbackPort: integer('callbackPort', pick('callbackPort'), CONFIG_DEFAULTS.callbackPort, 0),
    killGraceMs: duration('killGraceMs', pick('killGraceMs'), CONFIG_DEFAULTS.killGraceMs),
    stopGraceMs: duration('stopGraceMs', pick('stopGraceMs'), CONFIG_DEFAULTS.stopGraceMs),
    maxParallel: integer('maxParallel', pick('maxParallel'), CONFIG_DEFAULTS.maxParallel, 1),
    keepWorkspace: boolean('keepWorkspace', pick('keepWorkspace'), CONFIG_DEFAULTS.keepWorkspace),
    logLevel: pick('logLevel') ?? CONFIG_DEFAULTS.logLevel,
    eventSinks: Object.freeze(
      (pick('eventSinks') ?? '')
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t.length > 0),
    ),
    secrets: Object.freeze(secrets),
  });
}

function integer(key: keyof typeof CONFIG_ENV, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`${key} (${CONFIG_ENV[key]}) must be a whole number ≥ ${min}, got "${raw}"`);
  }
  return value;
}

function duration(key: keyof typeof CONFIG_ENV, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  try {
    return /^\d+$/.test(raw) ? Number(raw) : parseDurationMs(raw);
  } catch {
    throw new ConfigError(
      `${key} (${CONFIG_ENV[key]}) must be a duration such as 5s or 500ms (a bare number is ms), got "${raw}"`,
    );
  }
}

function boolean(key: keyof typeof CONFIG_ENV, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'no'].includes(raw)) return false;
  throw new ConfigError(`${key} (${CONFIG_ENV[key]}) must be true or false, got "${raw}"`);
}
