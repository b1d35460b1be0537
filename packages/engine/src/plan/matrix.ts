import { isDeepStrictEqual } from 'node:util';
import type { JsonValue } from '../domain/vocabulary.js';
import { MATRIX_LIMIT } from './types.js';

/**
 * Matrix expansion, shared by the compiler (literal matrices, at load) and the engine (matrices
 * with expressions, when their stage starts). It follows GitHub Actions' `strategy.matrix`:
 *
 * - every key but the reserved ones is an axis, a non-empty list; the combinations are their
 *   cross product, the first axis varying slowest (`{os: [a, b], node: [18, 20]}` gives
 *   `(a, 18) (a, 20) (b, 18) (b, 20)`);
 * - `exclude` (a list of objects) removes each combination that has all of an entry's values;
 * - `include` (a list of objects) then adds an entry's extra keys to every combination whose axis
 *   values it does not contradict (keys added by an earlier `include` may be overwritten), or,
 *   when it fits none, is a combination of its own.
 */

/** One combination: key → value, in axis order, then the keys `include` added. */
export type Combination = Readonly<Record<string, JsonValue>>;

/** Keys of `matrix:` that are not axes. */
export const MATRIX_RESERVED = ['include', 'exclude', 'maxParallel', 'failFast'] as const;

/** A problem with a matrix: what, and below which key of it (`[]`: the matrix itself). */
export interface MatrixProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

// Past this many raw combinations the cross product is not even built: bounded time and memory,
// whatever `exclude` would have removed.
const RAW_LIMIT = MATRIX_LIMIT * 16;

/**
 * Expand a matrix value (its expressions already rendered) into its combinations, in order.
 * Returns every problem instead when it is not a valid matrix or expands into more than
 * `MATRIX_LIMIT` combinations (or into two with the same name).
 */
export function expandMatrix(matrix: JsonValue): { combinations: Combination[] } | { problems: MatrixProblem[] } {
  if (!isObject(matrix)) return fail([], `a matrix is a mapping of axes to lists, got ${kindOf(matrix)}`);
  const problems: MatrixProblem[] = [];
  const axes: [string, readonly JsonValue[]][] = [];
  for (const [key, values] of Object.entries(matrix)) {
    if ((MATRIX_RESERVED as readonly string[]).includes(key)) continue;
    if (!Array.isArray(values))
      problems.push({ path: [key], message: `an axis is a list of values, got ${kindOf(values)}` });
    else if (values.length === 0) problems.push({ path: [key], message: 'an axis needs at least one value' });
    else axes.push([key, values]);
  }
  const include = entries(matrix.include, 'include', problems);
  const exclude = entries(matrix.exclude, 'exclude', problems);
  if (problems.length > 0) return { problems };
  const axisNames = axes.map(([key]) => key);
  exclude.forEach((entry, index) => {
    for (const key of Object.keys(entry)) {
      if (!axisNames.includes(key)) {
        problems.push({
          path: ['exclude', index, key],
          message: `"${key}" is not an axis of the matrix (${axisNames.join(', ') || 'none'})`,
        });
      }
    }
  });
  if (problems.length > 0) return { problems };
  const raw = axes.reduce((count, [, values]) => count * values.length, axes.length === 0 ? 0 : 1);
  if (raw > RAW_LIMIT) return fail([], tooMany(raw));
  let combinations: Record<string, JsonValue>[] = [];
  if (axes.length > 0) {
    combinations = [{}];
    for (const [key, values] of axes) {
      combinations = combinations.flatMap((combination) => values.map((value) => ({ ...combination, [key]: value })));
    }
  }
  combinations = combinations.filter((combination) => !exclude.some((entry) => matches(combination, entry)));
  const original = combinations.length;
  for (const entry of include) {
    let fitted = false;
    for (const combination of combinations.slice(0, original)) {
      const contradicts = Object.entries(entry).some(
        ([key, value]) => axisNames.includes(key) && !isDeepStrictEqual(combination[key], value),
      );
      if (contradicts) continue;
      Object.assign(combination, entry);
      fitted = true;
    }
    if (!fitted) combinations.push({ ...entry });
  }
  if (combinations.length > MATRIX_LIMIT) return fail([], tooMany(combinations.length));
  const names = new Map<string, number>();
  for (const [index, combination] of combinations.entries()) {
    const label = combinationLabel(combination);
    const first = names.get(label);
    if (first !== undefined) {
      return fail([], `combinations ${first + 1} and ${index + 1} have the same values (${label}); each must differ`);
    }
    names.set(label, index);
  }
  return { combinations };
}

/** `a, 18`: a combination's values as its task run's name shows them. */
export function combinationLabel(combination: Combination): string {
  return Object.values(combination)
    .map((value) => (typeof value === 'string' ? value : JSON.stringify(value)))
    .join(', ');
}

/** The name of the task runs of one combination of action `action`: `build (a, 18)`. */
export function matrixTaskName(action: string, combination: Combination): string {
  return `${action} (${combinationLabel(combination)})`;
}

/** Every key of any combination, in first-seen order (what `matrix.<key>` may read). */
export function matrixKeys(combinations: readonly Combination[]): string[] {
  const keys = new Set<string>();
  for (const combination of combinations) for (const key of Object.keys(combination)) keys.add(key);
  return [...keys];
}

function entries(value: JsonValue | undefined, key: string, problems: MatrixProblem[]): Record<string, JsonValue>[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push({ path: [key], message: `${key} is a list of mappings, got ${kindOf(value)}` });
    return [];
  }
  const out: Record<string, JsonValue>[] = [];
  value.forEach((item, index) => {
    if (isObject(item) && Object.keys(item).length > 0) out.push(item);
    else problems.push({ path: [key, index], message: `expected a mapping of keys to values, got ${kindOf(item)}` });
  });
  return out;
}

function matches(combination: Combination, entry: Combination): boolean {
  return Object.entries(entry).every(([key, value]) => isDeepStrictEqual(combination[key], value));
}

function tooMany(count: number): string {
  return `the matrix expands into ${count} combinations; at most ${MATRIX_LIMIT} are allowed`;
}

function fail(path: MatrixProblem['path'], message: string): { problems: MatrixProblem[] } {
  return { problems: [{ path, message }] };
}

function isObject(value: JsonValue | undefined): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return JSON.stringify(value);
}
