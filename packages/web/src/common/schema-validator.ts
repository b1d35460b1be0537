import { Validator, type OutputUnit, type Schema } from '@cfworker/json-schema';
import {
  createErrorHandler,
  getDefaultFormState,
  toErrorSchema,
  unwrapErrorHandler,
  validationDataMerge,
  type RJSFSchema,
  type RJSFValidationError,
  type ValidatorType,
} from '@rjsf/utils';

/**
 * JSON Schema validation without generated code. @rjsf/validator-ajv8 compiles every schema
 * into JavaScript with `new Function`, which the UI's Content-Security-Policy refuses (no
 * 'unsafe-eval'); @cfworker/json-schema interprets the schema instead. This module gives the
 * form library (rjsf) and the raw JSON views the same validator.
 */

/** One problem of a value against a schema: where (`.repo`, `.items.0`) and what. */
export interface SchemaProblem {
  /** dotted path of the offending value, `''` for the whole */
  readonly property: string;
  readonly message: string;
  readonly keyword: string;
}

/** Keywords whose error only says "a nested value failed": the nested error says what. */
const WRAPPERS = new Set([
  'properties',
  'items',
  'prefixItems',
  'allOf',
  '$ref',
  'additionalProperties',
  'unevaluatedProperties',
  'dependentSchemas',
  'if',
  'then',
  'else',
  'contains',
]);

const cache = new WeakMap<object, Validator>();

function validatorOf(schema: object): Validator {
  let validator = cache.get(schema);
  if (validator === undefined) {
    validator = new Validator(schema as Schema, '2020-12', false);
    cache.set(schema, validator);
  }
  return validator;
}

/** `#/a/0/b` → `.a.0.b` */
function propertyOf(instanceLocation: string): string {
  const keys = instanceLocation
    .replace(/^#/, '')
    .split('/')
    .slice(1)
    .map((k) => decodeURIComponent(k).replaceAll('~1', '/').replaceAll('~0', '~'));
  return keys.length === 0 ? '' : `.${keys.join('.')}`;
}

/** The problems of `value` against `schema`; empty when it is valid. */
export function schemaProblems(schema: object, value: unknown): SchemaProblem[] {
  const result = validatorOf(schema).validate(value);
  if (result.valid) return [];
  const leaves = result.errors.filter((e) => !WRAPPERS.has(e.keyword) || result.errors.length === 1);
  return (leaves.length > 0 ? leaves : result.errors).map((e: OutputUnit) => {
    let property = propertyOf(e.instanceLocation);
    let message = e.error;
    const missing = e.keyword === 'required' ? /"([^"]+)"/.exec(e.error)?.[1] : undefined;
    if (missing !== undefined) {
      property = `${property}.${missing}`;
      message = 'is required';
    }
    return { property, message: tidy(message), keyword: e.keyword };
  });
}

/** The validator's sentences, made shorter: `Instance type "string" is invalid. Expected "integer".` → `must be integer`. */
function tidy(message: string): string {
  const type = /Instance type "([^"]+)" is invalid\. Expected "([^"]+)"/.exec(message);
  if (type) return `must be ${type[2]} (got ${type[1]})`;
  return message.replace(/^Instance /, 'value ').replace(/\.$/, '');
}

/** The rjsf validator over `schemaProblems`. */
export const formValidator: ValidatorType = {
  validateFormData(formData, schema, customValidate, transformErrors, uiSchema) {
    let errors: RJSFValidationError[] = schemaProblems(schema, formData).map((p) => ({
      name: p.keyword,
      property: p.property,
      message: p.message,
      stack: `${p.property.replace(/^\./, '') || 'value'} ${p.message}`,
    }));
    if (typeof transformErrors === 'function') errors = transformErrors(errors, uiSchema);
    const errorSchema = toErrorSchema(errors);
    if (typeof customValidate !== 'function') return { errors, errorSchema };
    const data = getDefaultFormState(formValidator, schema, formData, schema, true);
    const handler = customValidate(data, createErrorHandler(data), uiSchema);
    return validationDataMerge({ errors, errorSchema }, unwrapErrorHandler(handler));
  },
  isValid(schema: RJSFSchema, formData: unknown, rootSchema: RJSFSchema) {
    try {
      // a sub-schema may refer to the root's definitions: validate with them in scope
      const scoped = {
        ...schema,
        ...(rootSchema.$defs === undefined ? {} : { $defs: rootSchema.$defs }),
        ...(rootSchema.definitions === undefined ? {} : { definitions: rootSchema.definitions }),
      } as object;
      return schemaProblems(scoped, formData).length === 0;
    } catch {
      return false;
    }
  },
  rawValidation(schema, formData) {
    try {
      return { errors: schemaProblems(schema, formData) as never[] };
    } catch (error) {
      return { validationError: error as Error };
    }
  },
};
