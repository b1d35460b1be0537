import type { FastifyRequest } from 'fastify';

/**
 * A `preValidation` hook for routes whose body is optional: a request without one (`curl -X
 * POST`, no content type) is taken as `{}`, which the route's body schema then checks.
 */
export async function emptyBodyAsObject(request: FastifyRequest): Promise<void> {
  request.body ??= {};
}
