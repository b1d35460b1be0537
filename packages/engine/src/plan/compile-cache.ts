import { posix } from 'node:path';
import type { ExpressionCompiler, ScopedChecker } from './expression-compiler.js';
import type { FieldPath } from './field-path.js';
import type { IssueList } from './issue-list.js';
import { asArray, asRecord, asString, type Json } from './json-access.js';
import type { PlanCache } from './types.js';

const NO_SECRETS = 'a cache key is kept in the store and compared across runs';

/**
 * Compile an action's `cache:`: `true` (the key derives from the component, the rendered event
 * data and env), `false` (none), or `{key?, paths?}`. `key` is a template in the action's scope
 * that may not read secrets; `paths` are workspace-relative files or folders (no `..`, not
 * absolute). Without a key, the derived one would hash secrets when the action's event data or
 * env reads them (`readsSecrets`): that is refused too, asking for an explicit key.
 */
export function compileCache(
  value: Json,
  path: FieldPath,
  ctx: {
    readonly issues: IssueList;
    readonly expressions: ExpressionCompiler;
    readonly checker: ScopedChecker;
    readonly readsSecrets: boolean;
  },
): { readonly cache: PlanCache; readonly needs: ReadonlySet<string> } | undefined {
  if (value === undefined || value === false) return undefined;
  const spec = value === true ? {} : asRecord(value);
  if (spec === undefined) return undefined;
  const paths: string[] = [];
  for (const [index, item] of (asArray(spec.paths) ?? []).entries()) {
    const text = asString(item);
    if (text === undefined) continue;
    const problem = pathProblem(text);
    if (problem !== undefined) ctx.issues.at([...path, 'paths', index], problem);
    else paths.push(normalised(text));
  }
  const keyText = asString(spec.key);
  if (keyText === undefined) {
    if (ctx.readsSecrets) {
      ctx.issues.at(
        path,
        'this action reads secrets, and the cache key derived from its event data and env would hash them; set cache.key to a key without secrets',
      );
    }
    return { cache: { paths }, needs: new Set() };
  }
  const key = ctx.expressions.template(keyText, [...path, 'key'], ctx.checker, NO_SECRETS);
  return { cache: { key: key.template, paths }, needs: key.needs };
}

function pathProblem(text: string): string | undefined {
  if (posix.isAbsolute(text) || /^[A-Za-z]:[\\/]/.test(text)) {
    return `"${text}" is absolute; cache paths are relative to the run's workspace`;
  }
  const clean = posix.normalize(text.replaceAll('\\', '/'));
  if (clean === '..' || clean.startsWith('../')) return `"${text}" leaves the run's workspace`;
  if (clean === '.' || clean === './') return 'name files or folders inside the workspace, not the whole workspace';
  return undefined;
}

function normalised(text: string): string {
  return posix.normalize(text.replaceAll('\\', '/')).replace(/\/+$/, '');
}
