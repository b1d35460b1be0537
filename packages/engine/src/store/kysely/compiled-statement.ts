import type { CompiledQuery } from 'kysely';

/**
 * The stand-in value of parameter `i` while a statement is compiled once: `bindCompiled` finds
 * where each landed among the compiled parameters.
 */
export function parameterMarker(i: number): string {
  return `\u0000pilotage-param-${i}`;
}

/**
 * A statement compiled once with `parameterMarker(0…arity-1)` as its values, made reusable: the
 * returned function puts real values where the markers landed (any other parameter, such as a
 * dialect's JSON path, is a constant and kept). Kysely otherwise builds, freezes and compiles a
 * statement on every call, which on the per-task path costs more than SQLite running it.
 */
export function bindCompiled<R>(
  compiled: CompiledQuery<R>,
  arity: number,
): (values: readonly unknown[]) => CompiledQuery<R> {
  const markers = Array.from({ length: arity }, (_, i) => parameterMarker(i));
  const slots = compiled.parameters.map((p) => markers.indexOf(p as string));
  if (markers.some((_, i) => !slots.includes(i))) {
    throw new Error(`a compiled statement lost one of its values: ${compiled.sql}`);
  }
  return (values) => ({
    ...compiled,
    parameters: slots.map((slot, k) => (slot < 0 ? compiled.parameters[k] : values[slot])),
  });
}

/** Per dialect: statement shape → its bound compiled statement. */
const compiledShapes = new WeakMap<object, Map<string, (values: readonly unknown[]) => CompiledQuery<unknown>>>();

/**
 * The statement of shape `key` for `dialect`, compiled the first time it is asked for (`compile`
 * builds it with `parameterMarker(0…arity-1)` as its values) and bound to `values` every time.
 * `key` must name everything that changes the SQL text: which columns are set, how many values
 * an `in` lists, whether an owner guard applies. On the per-task path this replaces building,
 * freezing and compiling each statement with Kysely per call (about 40–80 µs each here).
 */
export function compiledOnce<R>(
  dialect: object,
  key: string,
  arity: number,
  compile: () => CompiledQuery<R>,
  values: readonly unknown[],
): CompiledQuery<R> {
  let shapes = compiledShapes.get(dialect);
  if (shapes === undefined) {
    shapes = new Map();
    compiledShapes.set(dialect, shapes);
  }
  let bound = shapes.get(key);
  if (bound === undefined) {
    const compiled = compile();
    markReused(compiled.sql);
    bound = bindCompiled(compiled, arity) as (values: readonly unknown[]) => CompiledQuery<unknown>;
    shapes.set(key, bound);
  }
  return bound(values) as CompiledQuery<R>;
}

/** SQL texts sent again and again (a bounded set: one per statement shape), with their names. */
const reusedTexts = new Map<string, string>();

/**
 * Mark `sql` as the text of a statement that is sent again and again (compiled once per shape):
 * a driver that can (PostgreSQL) keeps it prepared on each connection (`reusedStatementName`)
 * instead of having the server parse and plan it at every call. Only texts from a bounded set of
 * shapes may be marked: each is kept on every connection for the connection's life.
 */
export function markReused(sql: string): void {
  if (!reusedTexts.has(sql)) reusedTexts.set(sql, `pilotage_${reusedTexts.size.toString(36)}`);
}

/** The name to prepare `sql` under when it was marked reused, else undefined. */
export function reusedStatementName(sql: string): string | undefined {
  return reusedTexts.get(sql);
}
