import { createRequire } from 'node:module';
import type { Ajv2020, Options } from 'ajv/dist/2020.js';
import type * as AjvModule from 'ajv/dist/2020.js';

/**
 * A draft 2020-12 Ajv instance with ajv-formats, both required (they are CommonJS) when first
 * asked for, not when a module that may validate is imported: a command that compiles no schema
 * never loads them (plan/schema.ts, events/validate.ts).
 */
export function newAjv2020(options: Options): Ajv2020 {
  const require = createRequire(import.meta.url);
  const { Ajv2020: Ajv } = require('ajv/dist/2020.js') as typeof AjvModule;
  const formats = require('ajv-formats') as { default?: unknown };
  // ajv-formats exports its function as the module and as `default`
  const addFormats = (formats.default ?? formats) as (ajv: Ajv2020) => Ajv2020;
  return addFormats(new Ajv(options));
}
