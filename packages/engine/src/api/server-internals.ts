import type { FastifyRequest } from 'fastify';
import { scopeAllows } from '../domain/scopes.js';
import { isJsonObject, type JsonValue } from '../domain/vocabulary.js';
import type { TaskRunRecord } from '../store/types.js';

/**
 * What of the server's own machine an answer may show: process ids and absolute file paths
 * (a component's folder, a workflow file's path, the local executor's pid and command) are for
 * admin tokens; `read` and `run` tokens see everything else of the same answers, without them.
 */
export function seesServerInternals(request: FastifyRequest): boolean {
  return request.principal !== undefined && scopeAllows(request.principal.scopes, 'admin');
}

/** Names of task run facts that are the server's own (the local executor's). */
const INTERNAL_FACTS = new Set(['pid', 'command']);

/**
 * A task run without the server's internals: no `ref` when it is a pid (local executor), no
 * `pid`/`command` fact, no fact whose value is an absolute path.
 */
export function taskRunWithoutInternals(task: TaskRunRecord): TaskRunRecord {
  const facts = Object.fromEntries(
    Object.entries(task.facts).filter(([name, value]) => !INTERNAL_FACTS.has(name) && !isAbsolutePath(value)),
  );
  return { ...task, ref: task.ref !== null && /^\d+$/.test(task.ref) ? null : task.ref, facts };
}

/** A copy of a stored plan (or any JSON) without `file` and `dir` properties that hold absolute paths. */
export function withoutServerPaths(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(withoutServerPaths);
  if (!isJsonObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, item]) => !((key === 'file' || key === 'dir') && typeof item === 'string' && isAbsolutePath(item)))
      .map(([key, item]) => [key, withoutServerPaths(item)]),
  );
}

function isAbsolutePath(value: string): boolean {
  return value.startsWith('/') || /^[A-Za-z]:[\\/]/.test(value);
}
