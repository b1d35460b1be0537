import { isAbsolute } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { invalidFields, type FieldProblem } from '../error-reply.js';

/** Content types a file body may use: YAML, JSON (the file itself or `{source}`), plain text. */
export const SOURCE_CONTENT_TYPES = [
  'application/yaml',
  'application/x-yaml',
  'text/yaml',
  'text/x-yaml',
  'application/json',
  'text/plain',
] as const;

/** A file sent to the API: its text, and what the client said about where it came from. */
export interface SourceBody {
  readonly source: string;
  /** name of the file in issue messages (the client's path); absent: the caller's default */
  readonly file?: string;
  /** absolute folder of the file on the server's machine (components only) */
  readonly dir?: string;
}

/**
 * Make every content type of `SOURCE_CONTENT_TYPES` arrive as the raw text, so issues can name
 * the exact line the client wrote (a parsed JSON body has lost its lines). Call inside a plugin
 * holding only the routes that take a file: it replaces the JSON parser of that scope.
 */
export function acceptSourceText(app: FastifyInstance): void {
  app.addContentTypeParser([...SOURCE_CONTENT_TYPES], { parseAs: 'string' }, (_request, body, done) => {
    done(null, body);
  });
}

const WRAPPER_KEYS = new Set(['source', 'file', 'dir']);

/**
 * Read a file body: the text itself (YAML or JSON), or a JSON object `{source, file?, dir?}`
 * (told apart by its `source` string and no `kind`). Throws ValidationError naming the field for
 * a wrapper with other keys, a non-string `file`, or a `dir` that is not an absolute path.
 * A text that is not even valid YAML is returned as is: the file parser reports it with its line.
 */
export function readSourceBody(body: string | object, allowDir: boolean): SourceBody {
  // the raw-text parser gives a string; an object is a wrapper some other parser decoded already
  if (typeof body === 'object') return readSourceBody(JSON.stringify(body), allowDir);
  let parsed: unknown;
  try {
    parsed = body.trimStart().startsWith('{') ? JSON.parse(body) : undefined;
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { source: body };
  const wrapper = parsed as Record<string, unknown>;
  if (typeof wrapper.source !== 'string' || 'kind' in wrapper) return { source: body };
  const problems: FieldProblem[] = [];
  for (const key of Object.keys(wrapper)) {
    if (!WRAPPER_KEYS.has(key) || (key === 'dir' && !allowDir)) {
      problems.push({
        field: `body.${key}`,
        message: 'is not a known field: expected source, file' + (allowDir ? ', dir' : ''),
      });
    }
  }
  if (wrapper.file !== undefined && (typeof wrapper.file !== 'string' || wrapper.file === '')) {
    problems.push({ field: 'body.file', message: 'must be a non-empty string (the file name shown in issues)' });
  }
  if (allowDir && wrapper.dir !== undefined && (typeof wrapper.dir !== 'string' || !isAbsolute(wrapper.dir))) {
    problems.push({ field: 'body.dir', message: 'must be an absolute path (the component folder on the server)' });
  }
  if (problems.length > 0) throw invalidFields(problems);
  return {
    source: wrapper.source,
    ...(typeof wrapper.file === 'string' ? { file: wrapper.file } : {}),
    ...(allowDir && typeof wrapper.dir === 'string' ? { dir: wrapper.dir } : {}),
  };
}
