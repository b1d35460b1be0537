import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { httpStatusOf, PilotageError } from '../domain/errors.js';

/** The body of every error answer of the API. `code` is stable; `message` says what to do. */
export interface ErrorReply {
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
}

/** JSON Schema of `ErrorReply`, registered as `Error` (`{ $ref: 'Error#' }`). */
export const errorReplySchema = {
  $id: 'Error',
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', description: 'stable error code' },
    message: { type: 'string' },
    details: {},
  },
} as const;

/** One validation problem of a request: where (`body.data.repo`) and what. */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
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
