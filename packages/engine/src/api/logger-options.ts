import type { FastifyServerOptions } from 'fastify';
import pino from 'pino';
import { redactCallbackUrl } from '../protocol/tokens.js';
import { API_TOKEN_PREFIX } from './token-service.js';

/** What replaces a token or a secret query value in a log line. */
export const REDACTED = '[redacted]';

/** Query parameters whose values never reach a log line. */
const SECRET_QUERY = /([?&](?:token|access_token|secret|signature|sig)=)[^&#]*/gi;

/**
 * The same three credentials inside a serialized JSON log line, where a value ends at a quote,
 * a backslash (escape) or white space as well: callback tokens in `/v1/callbacks/<token>` paths,
 * secret query values, and API tokens (`plt_` and 43 base64url characters).
 */
const LINE_CALLBACK_TOKEN = /(\/v1\/callbacks\/)[^/?#"\\\s]+/g;
const LINE_SECRET_QUERY = /([?&](?:token|access_token|secret|signature|sig)=)[^&#"\\\s]*/gi;
const LINE_API_TOKEN = new RegExp(`${API_TOKEN_PREFIX}[A-Za-z0-9_-]{16,}`, 'g');

/** `url` with callback tokens and secret query values replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  return redactCallbackUrl(url).replace(SECRET_QUERY, `$1${REDACTED}`);
}

/**
 * One serialized log line with every credential the server knows the shape of replaced by
 * `[redacted]` (callback tokens, secret query values, API tokens) and every secret value
 * `mask` knows replaced by `***`. The last line of defence: whatever a log call was given
 * (a message, an error's message or stack, a URL), this runs on the text actually written.
 */
export function scrubLogLine(line: string, mask: (text: string) => string = (text) => text): string {
  return mask(line)
    .replace(LINE_CALLBACK_TOKEN, `$1${REDACTED}`)
    .replace(LINE_SECRET_QUERY, `$1${REDACTED}`)
    .replace(LINE_API_TOKEN, `${API_TOKEN_PREFIX}${REDACTED}`);
}

/** Request headers that carry credentials: logged as `[redacted]` if a serializer ever logs headers. */
export const SECRET_HEADERS = [
  'authorization',
  'cookie',
  'x-gitlab-token',
  'x-hub-signature',
  'x-hub-signature-256',
  'webhook-signature',
] as const;

/**
 * Error properties never logged: Node's HTTP parser puts the raw bytes of a malformed request
 * (headers included: `Authorization`) in `rawPacket`, which Fastify logs at trace level.
 */
const RAW_ERROR_KEYS = ['rawPacket'] as const;

/** pino's error serializer without the raw request bytes (recursively, through `cause`). */
function errorWithoutRawBytes(error: Error): pino.SerializedError {
  const serialized = pino.stdSerializers.err(error);
  for (const key of RAW_ERROR_KEYS) delete serialized[key];
  const cause: unknown = serialized['cause'];
  if (typeof cause === 'object' && cause !== null) {
    for (const key of RAW_ERROR_KEYS) delete (cause as Record<string, unknown>)[key];
  }
  return serialized;
}

/**
 * pino options for the server's logger: JSON lines at `level` to `stream` (default stdout).
 * - Requests are logged as method, URL (redacted) and remote address only, never headers or
 *   bodies; credential headers are redacted should an object carrying them be logged.
 * - Errors are logged without the raw request bytes Node attaches to parse errors.
 * - Every line, as written, passes through `scrubLogLine` with `mask` (the secret masker):
 *   no callback token, API token, secret query value or known secret value reaches the stream.
 * Pass the same object to `pino(options, options.stream)` for a logger outside Fastify.
 */
export function loggerOptions(input: {
  level: string;
  mask?: (text: string) => string;
  stream?: NodeJS.WritableStream;
}): Exclude<FastifyServerOptions['logger'], boolean | undefined> & { stream?: NodeJS.WritableStream } {
  const mask = input.mask ?? ((text: string) => text);
  return {
    level: input.level,
    ...(input.stream ? { stream: input.stream } : {}),
    redact: {
      paths: SECRET_HEADERS.flatMap((h) => [`req.headers["${h}"]`, `headers["${h}"]`]),
      censor: REDACTED,
    },
    serializers: {
      req(request: { method?: string; url?: string; ip?: string }) {
        return { method: request.method, url: redactUrl(request.url ?? ''), remoteAddress: request.ip };
      },
      err: errorWithoutRawBytes,
    },
    hooks: {
      streamWrite: (line) => scrubLogLine(line, mask),
    },
  };
}
