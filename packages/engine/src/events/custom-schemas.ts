import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, messageOf } from '../domain/errors.js';
import { isJsonObject } from '../domain/vocabulary.js';
import { registerCustomSchema } from './validate.js';

/**
 * The folder, under the engine's data directory, whose JSON Schemas incoming CDEvents may name
 * in `context.schemaUri`: this is what "resolvable locally" means, since schemas are never
 * fetched from the network.
 */
export const CUSTOM_SCHEMA_FOLDER = 'cdevents-schemas';

/**
 * Register, process-wide, every `*.json` file of `dir` as a schema for `context.schemaUri`: each
 * file is one JSON Schema whose `$id` is the URI events name (it may `$ref` the CDEvents link
 * schemas by their `$id`). A missing folder registers nothing. Resolves with the URIs registered,
 * sorted by file name. Throws ConfigError naming the file for one that is not JSON, has no
 * string `$id`, or does not compile.
 */
export async function loadCustomSchemas(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ConfigError(`cannot read the CDEvents schema folder ${dir}: ${messageOf(error)}`);
  }
  const uris: string[] = [];
  for (const name of names) {
    const file = join(dir, name);
    let schema: unknown;
    try {
      schema = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new ConfigError(`CDEvents schema ${file} is not JSON: ${messageOf(error)}`);
    }
    const id = isJsonObject(schema) ? schema.$id : undefined;
    if (!isJsonObject(schema) || typeof id !== 'string' || id === '') {
      throw new ConfigError(`CDEvents schema ${file} needs a "$id": the schemaUri events name it by`);
    }
    try {
      registerCustomSchema(id, schema);
    } catch (error) {
      throw new ConfigError(`CDEvents schema ${file}: ${messageOf(error)}`);
    }
    uris.push(id);
  }
  return uris;
}
