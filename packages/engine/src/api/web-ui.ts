import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The Content-Security-Policy of the web UI: scripts, styles, images and API calls from this
 * server only; no inline script, no eval, no plugins, no framing. The one exception is a style
 * element carrying the page's nonce (a fresh random value per page): the code editor
 * (CodeMirror) writes its styles into one, and reads the nonce from the page.
 */
export function uiCsp(nonce?: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    nonce === undefined ? "style-src 'self'" : `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Where the built index.html holds the page's nonce (`<meta name="csp-nonce" content="…">`). */
const NONCE_PLACEHOLDER = '__PILOTAGE_CSP_NONCE__';

/** Headers of every file of the UI. */
function securityHeaders(reply: FastifyReply, nonce?: string): FastifyReply {
  return reply.headers({
    'content-security-policy': uiCsp(nonce),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  });
}

/**
 * The folder of the built web UI (`packages/web/dist`, found through the `@pilotage/web`
 * package), or undefined when the UI is not installed or not built.
 */
export function defaultUiDir(): string | undefined {
  try {
    const manifest = createRequire(import.meta.url).resolve('@pilotage/web/package.json');
    const dir = join(dirname(manifest), 'dist');
    return existsSync(join(dir, 'index.html')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serve the built UI at `/`: its files (hashed assets cached for a year), each with the UI's CSP
 * and security headers, and its page (index.html, never cached, with a fresh CSP nonce) at `/`
 * and at every route of the UI (`/runs/01J…`): the app's not-found handler calls `page(reply)`
 * for GETs that accept HTML outside `/v1`.
 */
export async function serveWebUi(
  app: FastifyInstance,
  dir: string,
): Promise<{ page(reply: FastifyReply): Promise<FastifyReply> }> {
  const template = await readFile(join(dir, 'index.html'), 'utf8');
  const page = async (reply: FastifyReply): Promise<FastifyReply> => {
    const nonce = randomBytes(18).toString('base64');
    return securityHeaders(reply, nonce)
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(template.replaceAll(NONCE_PLACEHOLDER, nonce));
  };
  app.get('/', { schema: { hide: true } }, (_request, reply) => page(reply));
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    index: false,
    setHeaders(reply, path) {
      securityHeaders(reply).header(
        'cache-control',
        path.startsWith(join(dir, 'assets')) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  return { page };
}
