import type { Scope } from '../domain/scopes.js';
import type { Principal } from './token-service.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The scope a route under the authenticated prefix needs (default `admin`, so a route that
     * forgets to say is closed, not open).
     */
    scope?: Scope;
  }
  interface FastifyRequest {
    /** the API token's record, set by the auth hook on authenticated routes */
    principal?: Principal;
  }
}

export {};
