import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorReply as ContractErrorReply } from '@pilotage/api';
import { httpStatusOf, PilotageError, ValidationError } from '../domain/errors.js';

/** The body of every error answer of the API. `code` is stable; `message` says what to do. */
export interface ErrorReply {
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
}

/** JSON Schema of `ErrorReply` (the contract's), registered as `Error` (`{ $ref: 'Error#' }`). */
export const errorReplySchema = ContractErrorReply;

/** The response schema of an error answer: a reference to `errorReplySchema`. */
const ERROR_REF = { $ref: `${errorReplySchema.$id}#` } as const;

/**
 * Response schemas for the error statuses a route may answer, each an `ErrorReply`, to spread
 * into a route's `response`: `{ 200: Thing, ...errorResponses(400, 401, 404) }`.
 */
export function errorResponses<S extends number>(...statuses: readonly S[]): Record<S, typeof ERROR_REF> {
  return Object.fromEntries(statuses.map((status) => [status, ERROR_REF])) as Record<S, typeof ERROR_REF>;
}

/** One validation problem of a request: where (`body.data.repo`) and what. */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

/**
 * A 400 VALIDATION naming each field (`querystring.cursor: …`), for checks a route makes beyond
 * its schema; the answer's `details` are the problems, as for schema failures.
 */
export function invalidFields(problems: readonly FieldProblem[], cause?: unknown): ValidationError {
  const message = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
  return new ValidationError(message, { cause, details: problems });
}

/** The keys of a JSON Pointer, unescaped: `/a/b~1c` → `['a', 'b/c']`, `''` → `[]`. */
export function pointerKeys(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((key) => key.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/**
 * Map anything thrown by a route to a status and an `ErrorReply`: PilotageErrors by their code,
 * Fastify's schema validation as 400 VALIDATION naming each field, body and content-type
 * problems by their status. Unknown errors are 500 INTERNAL with no internals in the answer.
 */
export function toErrorReply(error: unknown): { status: number; body: ErrorReply } {
  if (error instanceof PilotageError) {
    const body: ErrorReply =
      error.details === undefined
        ? { code: error.code, message: error.message }
        : { code: error.code, message: error.message, details: error.details };
    return { status: httpStatusOf(error), body };
  }
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation !== undefined) {
    const context = fastifyError.validationContext ?? 'body';
    const problems: FieldProblem[] = fastifyError.validation.map((v) => {
      const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
      const missing =
        v.keyword === 'required' && typeof v.params.missingProperty === 'string' ? v.params.missingProperty : undefined;
      const field = [context, path, missing].filter((p) => p !== undefined && p !== '').join('.');
      const extra =
        v.keyword === 'additionalProperties' && typeof v.params.additionalProperty === 'string'
          ? ` "${v.params.additionalProperty}"`
          : '';
      return { field, message: `${v.message ?? 'is invalid'}${extra}` };
    });
    const message = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
    return { status: 400, body: { code: 'VALIDATION', message, details: problems } };
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    const code =
      status === 413
        ? 'BODY_TOO_LARGE'
        : status === 415
          ? 'UNSUPPORTED_MEDIA_TYPE'
          : status === 404
            ? 'NOT_FOUND'
            : status === 429
              ? 'RATE_LIMITED'
              : 'BAD_REQUEST';
    return { status, body: { code, message: fastifyError.message ?? 'bad request' } };
  }
  return { status: 500, body: { code: 'INTERNAL', message: 'internal error; the server log has the details' } };
}

/** The app's error handler: answers with `toErrorReply`, logs only server-side failures. */
export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body } = toErrorReply(error);
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  return reply.code(status).send(body);
}
