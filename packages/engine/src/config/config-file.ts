import { existsSync, readFileSync } from 'node:fs';
import type { Node } from 'yaml';
import { ConfigError } from '../domain/errors.js';
import { didYouMean } from '../plan/did-you-mean.js';
import { yamlParser } from '../plan/on-first-use.js';
import { CONFIG_ENV, loadConfig, type Overrides } from './config.js';
import { pilotagePaths } from './xdg-paths.js';

/**
 * Read a config file (YAML or JSON): a mapping of config keys (camelCase, as in CONFIG_ENV) to
 * scalars, or lists of scalars (`eventSinks`). Errors name the file, the line and the key:
 * a syntax error, an unknown key (with the closest known one), a nested value.
 */
export async function readConfigFile(path: string): Promise<Overrides> {
  return readConfigFileSync(path);
}

/** `readConfigFile`, synchronously (a small file, read once per command). */
export function readConfigFileSync(path: string): Overrides {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  return parseConfigText(text, path);
}

/**
 * The config file a command reads: `explicit` (a `--config` flag), else PILOTAGE_CONFIG, which
 * must exist; else `$XDG_CONFIG_HOME/pilotage/config.yaml` (see xdg-paths.ts) when it exists.
 * Undefined when there is none.
 */
export function configFilePath(
  explicit: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  home: string,
): string | undefined {
  const chosen = explicit ?? env['PILOTAGE_CONFIG'];
  if (chosen !== undefined && chosen !== '') return chosen;
  const standard = pilotagePaths(env, home).configFile;
  return existsSync(standard) ? standard : undefined;
}

/**
 * Check one value from the file by the same rules as the rest of the configuration, so a bad value
 * is reported where it stands (`file:line:col: port (PILOTAGE_PORT) must be …`).
 */
function checkValue(key: string, value: Overrides[keyof Overrides], where: string): void {
  if (value === undefined) return;
  try {
    loadConfig({ env: {}, home: '/', file: { [key]: value } });
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`${where}: ${error.message}`);
    throw error;
  }
}

/** Parse a config file's text; `file` is only used in messages. */
export function parseConfigText(text: string, file: string): Overrides {
  const { isMap, isScalar, isSeq, LineCounter, parseDocument } = yamlParser();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (node: Node | null | undefined): string => {
    const offset = node?.range?.[0];
    if (offset === undefined) return file;
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const first = doc.errors[0];
  if (first !== undefined) {
    const { line, col } = lines.linePos(first.pos[0]);
    throw new ConfigError(`${file}:${line}:${col}: ${first.message.split('\n')[0] ?? first.message}`);
  }
  if (doc.contents === null) return {};
  if (!isMap(doc.contents)) throw new ConfigError(`${at(doc.contents)}: a config file must be a mapping of keys`);
  const known = Object.keys(CONFIG_ENV);
  const out: Record<string, string | number | boolean | string[]> = {};
  for (const pair of doc.contents.items) {
    const keyNode = pair.key as Node | null;
    const key = isScalar(keyNode) ? String(keyNode.value) : '';
    if (!known.includes(key)) {
      throw new ConfigError(
        `${at(keyNode)}: unknown key "${key}"${didYouMean(key, known)}; known keys: ${known.join(', ')}`,
      );
    }
    const valueNode = pair.value as Node | null;
    if (isScalar(valueNode)) {
      const value = valueNode.value;
      if (value === null) continue;
      if (typeof value === 'object') throw new ConfigError(`${at(valueNode)}: ${key} must be a plain value`);
      out[key] = value as string | number | boolean;
    } else if (isSeq(valueNode) && valueNode.items.every((item) => isScalar(item))) {
      out[key] = valueNode.items.map((item) => String((item as { value: unknown }).value));
    } else {
      throw new ConfigError(`${at(valueNode)}: ${key} must be a plain value or a list of plain values`);
    }
    checkValue(key, out[key], at(valueNode));
  }
  return out as Overrides;
}
