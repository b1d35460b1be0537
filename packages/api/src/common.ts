import { Type, type TSchema } from '@sinclair/typebox';

/** Schemas every area of the API uses. */

/** A point in time, epoch milliseconds. */
export const Millis = Type.Integer({ description: 'epoch ms' });

/** A point in time, or null when it has not happened. */
export const NullableMillis = Type.Union([Millis, Type.Null()]);

/** `schema` or null. */
export function nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

/** Any JSON object. */
export const JsonObjectSchema = Type.Record(Type.String(), Type.Unknown());

/** API token scopes; each includes the ones before it (read < run < admin). */
export const SCOPE_NAMES = ['read', 'run', 'admin'] as const;
export type ScopeName = (typeof SCOPE_NAMES)[number];
export const ScopeSchema = Type.Union(SCOPE_NAMES.map((s) => Type.Literal(s)));

/**
 * The body of every error answer: `code` is stable, `message` says what to do next, `details`
 * (validation) lists `{field, message}` problems or plan issues with file, line and column.
 * Registered by the server under `$id: Error`.
 */
export const ErrorReply = Type.Object(
  {
    code: Type.String({ description: 'stable error code' }),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  },
  { $id: 'Error' },
);

/** One problem of a request, as `details` of a 400 VALIDATION lists them. */
export const FieldProblem = Type.Object({
  field: Type.String({ description: 'where: `body.data.repo`, `querystring.cursor`' }),
  message: Type.String(),
});

/** One problem of a workflow or component file, as `details` of a 422 PLAN_INVALID lists them (an array). */
export const PlanIssue = Type.Object({
  file: Type.String(),
  line: Type.Integer({ description: '1-based' }),
  column: Type.Integer({ description: '1-based' }),
  path: Type.String({ description: 'field path in the file: `stages[1].actions[0].with.repo`' }),
  message: Type.String(),
});
