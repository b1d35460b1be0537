import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { CloudEvent, HTTP } from 'cloudevents';

/**
 * The reference CDEvents data beside the repository (`../shared/cdevents`): the official v0.5.1
 * schemas and the spec's conformance examples, read by the events tests.
 */
export const SHARED_CDEVENTS = fileURLToPath(new URL('../../../../shared/cdevents/', import.meta.url));

/** Why the shared data cannot be used, or undefined when it is there. */
export const sharedMissing: string | undefined = existsSync(join(SHARED_CDEVENTS, 'examples'))
  ? undefined
  : `reference data not found at ${SHARED_CDEVENTS}`;

/** A JSON document the tests read and mutate freely (any shape, on purpose). */
export type Doc = any;

/** A conformance example: its file name and parsed document. */
export interface Example {
  readonly file: string;
  readonly doc: Doc;
}

/** The 45 core examples (`examples/*.json`), sorted by file name. */
export function coreExamples(): Example[] {
  const dir = join(SHARED_CDEVENTS, 'examples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, doc: JSON.parse(readFileSync(join(dir, file), 'utf8')) as Doc }));
}

/** The custom-event example. */
export function customExample(): Example {
  const file = join(SHARED_CDEVENTS, 'examples', 'custom', 'conformance.json');
  return { file: 'custom/conformance.json', doc: JSON.parse(readFileSync(file, 'utf8')) as Doc };
}

/** A deep copy (mutations never leak between tests). */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** The two CloudEvents HTTP content modes. */
export type Mode = 'binary' | 'structured';
export const MODES: readonly Mode[] = ['binary', 'structured'];

/**
 * The request a CDEvents producer sends for `doc` in `mode`, built with the CloudEvents SDK
 * itself: the CloudEvent's attributes come from the CDEvent's context unless `attrs` overrides
 * them. The body is the serialized JSON text.
 */
export function cloudEventRequest(
  doc: Doc,
  mode: Mode,
  attrs: Partial<Record<'id' | 'type' | 'source', string>> = {},
): { headers: Record<string, string>; body: string } {
  const ce = new CloudEvent({
    specversion: '1.0',
    id: attrs.id ?? String(doc.context?.id ?? 'x'),
    source: attrs.source ?? String(doc.context?.source ?? '/x'),
    type: attrs.type ?? String(doc.context?.type ?? 'x'),
    subject: doc.subject?.id === undefined ? undefined : String(doc.subject.id),
    time: typeof doc.context?.timestamp === 'string' ? doc.context.timestamp : undefined,
    datacontenttype: 'application/json',
    data: doc,
  });
  const message = mode === 'binary' ? HTTP.binary(ce) : HTTP.structured(ce);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers)) if (v !== undefined) headers[k] = String(v);
  return { headers, body: String(message.body) };
}
