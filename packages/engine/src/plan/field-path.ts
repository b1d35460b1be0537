/** A location inside a parsed file: object keys and list indexes, from the root. */
export type FieldPath = readonly (string | number)[];

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * The path as users read it: `stages[1].actions[0].with.repo`. Keys that are not plain
 * identifiers are quoted (`env["A.B"]`) so the path stays unambiguous. The root is `''`.
 */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (PLAIN_KEY.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/** A stable map key for a path (paths are compared by value). */
export function pathKey(path: FieldPath): string {
  return JSON.stringify(path);
}

/** `pathKey([...path, part])`, from `pathKey(path)`: without building the path, nor stringifying it again. */
export function childPathKey(parentKey: string, part: string | number): string {
  const item = typeof part === 'number' ? String(part) : JSON.stringify(part);
  return parentKey.length === 2 ? `[${item}]` : `${parentKey.slice(0, -1)},${item}]`;
}
