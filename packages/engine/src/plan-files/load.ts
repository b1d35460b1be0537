/**
 * Workflow and component files read from disk (the I/O side of the plan compiler, which is pure:
 * `plan/` never touches the file system).
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { PlanError, type Issue } from '../domain/issue.js';
import { compileWorkflow } from '../plan/compile-workflow.js';
import { checkNoCycle } from '../plan/compile-uses.js';
import { isPathRef, type CalledWorkflow, type ComponentResolver } from '../plan/component-resolver.js';
import { didYouMean } from '../plan/did-you-mean.js';
import { asArray, asRecord, asString } from '../plan/json-access.js';
import { parseComponent } from '../plan/parse-component.js';
import { quoteForMessage } from '../plan/quote.js';
import { parseSource, type ParsedSource } from '../plan/source-doc.js';
import { unhonouredActionFields, unhonouredFields, unhonouredWarning } from '../executor/capabilities.js';
import type { Plan, ResolvedComponent } from '../plan/types.js';

export { compileWorkflow } from '../plan/compile-workflow.js';
export { parseComponent } from '../plan/parse-component.js';
export type { ComponentResolver } from '../plan/component-resolver.js';

/** Looks up a registered component by reference (`git-clone@1.2.0`, `git-clone@^1`). */
export type ComponentRegistry = (ref: string) => ResolvedComponent | undefined;

/**
 * A resolver that reads component files: a path reference is taken relative to the workflow
 * file (a folder means its `component.yaml`); a `name@version` reference goes to `registry`.
 * Each file is read and compiled once per resolver (errors too). Workflows an action `uses:`
 * are read the same way, relative to the calling file; stored workflows (`deploy@3`) need a
 * server.
 */
export function createFileResolver(registry?: ComponentRegistry): ComponentResolver {
  const cache = new Map<string, { component?: ResolvedComponent; error?: unknown }>();
  const workflows = new Map<string, { plan?: Plan; error?: unknown }>();
  return {
    resolveWorkflow(ref: string, fromFile: string, chain: readonly string[]): CalledWorkflow {
      if (!isPathRef(ref)) {
        throw new Error(
          `"${ref}" names a workflow stored on a server: run with --server (or PILOTAGE_SERVER), or give a path to its workflow file such as ./${ref.split('@')[0] ?? ref}.yaml`,
        );
      }
      const key = resolve(isAbsolute(ref) ? ref : join(dirname(fromFile), ref));
      checkNoCycle(key, chain, (k) => relative(dirname(chain[0] ?? k), k) || basename(k));
      let entry = workflows.get(key);
      if (entry === undefined) {
        try {
          const text = readText(key);
          entry = { plan: compileWorkflow(text, key, this, parseSource(text, key), [...chain, key]) };
        } catch (error) {
          entry = { error };
        }
        // a failure may depend on the chain (a cycle further down): only successes are kept
        if (entry.plan !== undefined) workflows.set(key, entry);
      }
      if (entry.plan === undefined) throw entry.error;
      return { key, plan: entry.plan };
    },
    resolve(ref: string, fromFile: string): ResolvedComponent {
      if (!isPathRef(ref)) {
        const found = registry?.(ref);
        if (found === undefined)
          throw new Error(`component ${ref} not found; register it or use a path to its component.yaml`);
        return found;
      }
      let target = isAbsolute(ref) ? ref : join(dirname(fromFile), ref);
      if (existsSync(target) && statSync(target).isDirectory()) target = join(target, 'component.yaml');
      const key = resolve(target);
      let entry = cache.get(key);
      if (entry === undefined) {
        try {
          entry = { component: loadComponent(target) };
        } catch (error) {
          entry = { error };
        }
        cache.set(key, entry);
      }
      if (entry.component === undefined) throw entry.error;
      return entry.component;
    },
  };
}

function loadComponent(file: string): ResolvedComponent {
  if (!existsSync(file)) throw new Error(`component file "${file}" not found`);
  return parseComponent(readSourceFile(file), file);
}

/** The largest workflow or component file read, bytes (4 MiB: four times the API's body limit). */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;

/**
 * The text of a workflow or component file. Only a regular file of at most MAX_FILE_BYTES is
 * read: `/dev/zero`, a FIFO or a folder would make a reader wait forever or fill memory, so
 * they are refused before reading (and a FIFO is opened non-blocking, in case one appears
 * between the check and the open). Throws an Error saying why, which callers report.
 */
export function readSourceFile(path: string): string {
  const notRegular = (kind: string) => new Error(`${path} is ${kind}, not a regular file`);
  const before = statSync(path);
  if (before.isDirectory()) throw notRegular('a folder');
  if (!before.isFile()) throw notRegular('a device, pipe or socket');
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw notRegular('a device, pipe or socket');
    if (stat.size > MAX_FILE_BYTES) {
      throw new Error(
        `${path} is ${stat.size} bytes, over the limit of ${MAX_FILE_BYTES} bytes for a workflow or component file`,
      );
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Read and compile a workflow file. Components given by path are read relative to it; registry
 * references need a resolver with a registry. Throws PlanError (a file that cannot be read is
 * one issue at 1:1).
 */
export function loadWorkflowFile(path: string, resolver: ComponentResolver = createFileResolver()): Plan {
  return compileWorkflow(readText(path), path, resolver);
}

/** Read and compile a component file. Throws PlanError. */
export function loadComponentFile(path: string): ResolvedComponent {
  return parseComponent(readText(path), path);
}

/**
 * Check workflow and component files (the kind is read from each file's `kind:`) and return
 * every issue found, in file order; an empty list means all are valid.
 */
export function validateFiles(paths: readonly string[], resolver: ComponentResolver = createFileResolver()): Issue[] {
  return checkFiles(paths, { resolver }).issues;
}

/** What `checkFiles` found: problems, and warnings that do not make a file invalid. */
export interface FileCheck {
  readonly issues: Issue[];
  readonly warnings: Issue[];
}

/**
 * `validateFiles`, and with `executor` (the default executor of the workflows), a warning for
 * each component field the executor that runs it cannot honour (executor/capabilities.ts): at
 * the field itself in a component file, at the action's `component:` (or `run:`) in a workflow,
 * where an action's or the workflow's own `executor:` wins over `executor`.
 */
export function checkFiles(
  paths: readonly string[],
  options: { resolver?: ComponentResolver; executor?: string } = {},
): FileCheck {
  const resolver = options.resolver ?? createFileResolver();
  const issues: Issue[] = [];
  const warnings: Issue[] = [];
  for (const path of paths) {
    try {
      const text = readText(path);
      const parsed = parseSource(text, path);
      const { value, source, issues: readIssues } = parsed;
      if (readIssues.length > 0 && value === undefined) {
        issues.push(...readIssues);
        continue;
      }
      if (value === null) {
        issues.push(source.issue([], 'the file is empty: expected a workflow or a component'));
        continue;
      }
      const kind = asRecord(value)?.kind;
      if (kind === 'Workflow') {
        const plan = compileWorkflow(text, path, resolver, parsed);
        if (options.executor !== undefined) warnings.push(...workflowWarnings(plan, parsed, options.executor));
      } else if (kind === 'Component') {
        const component = parseComponent(text, path);
        if (options.executor !== undefined) {
          for (const { field, reason } of unhonouredFields(options.executor, component)) {
            warnings.push(
              source.issue([field], `the ${options.executor} executor does not honour ${field}: ${reason}`, {
                onKey: true,
              }),
            );
          }
        }
      } else {
        const hint = typeof kind === 'string' ? didYouMean(kind, ['Workflow', 'Component']) : '';
        const found =
          kind === undefined ? 'no kind' : typeof kind === 'string' ? quoteForMessage(kind) : JSON.stringify(kind);
        issues.push(
          source.issue(
            kind === undefined ? [] : ['kind'],
            `expected kind "Workflow" or "Component", got ${found}${hint}`,
          ),
        );
      }
    } catch (error) {
      if (!(error instanceof PlanError)) throw error;
      issues.push(...error.issues);
    }
  }
  return { issues, warnings };
}

// one warning per action whose executor would not honour some of its component's fields, and one
// per action field it would not honour (at the field), in `stages` and `finally`
function workflowWarnings(plan: Plan, parsed: ParsedSource, executor: string): Issue[] {
  const byName = new Map(
    [...plan.stages, ...(plan.finally ?? [])].flatMap((stage) => stage.actions.map((action) => [action.name, action])),
  );
  const warnings: Issue[] = [];
  for (const list of ['stages', 'finally'] as const) {
    for (const [stageIndex, stage] of (asArray(asRecord(parsed.value)?.[list]) ?? []).entries()) {
      for (const [actionIndex, item] of (asArray(asRecord(stage)?.actions) ?? []).entries()) {
        const record = asRecord(item);
        const action = byName.get(asString(record?.name) ?? '');
        if (action === undefined || record === undefined) continue;
        const at = [list, stageIndex, 'actions', actionIndex];
        const runsOn = action.executor ?? plan.executor ?? executor;
        const warning = action.uses === undefined ? unhonouredWarning(runsOn, action.component) : undefined;
        if (warning !== undefined) {
          const field = record.component !== undefined ? 'component' : 'run';
          warnings.push(parsed.source.issue([...at, field], warning));
        }
        for (const { field, reason } of unhonouredActionFields(runsOn, action)) {
          warnings.push(
            parsed.source.issue(
              [...at, ...field.split('.')],
              `the ${runsOn} executor does not honour ${field}: ${reason}`,
              {
                onKey: true,
              },
            ),
          );
        }
      }
    }
  }
  return warnings;
}

function readText(path: string): string {
  try {
    return readSourceFile(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new PlanError([{ file: path, line: 1, column: 1, path: '', message: `cannot read the file: ${reason}` }]);
  }
}
