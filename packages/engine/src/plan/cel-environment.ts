import type { Environment, EnvironmentOptions } from '@marcbachmann/cel-js';
import { celJs } from './on-first-use.js';
import type { RunStatus } from './types.js';

/** The status functions an action's `if:` may call (and nothing else may). */
export const STATUS_FUNCTIONS = ['success', 'failure', 'cancelled', 'always'] as const;

// The run status the status functions answer for. CEL evaluation here is synchronous (no async
// function is registered), so setting it around one evaluation (`withRunStatus`) cannot leak into
// another; outside one it is undefined and the functions throw.
let currentStatus: RunStatus | undefined;

/** Evaluate `fn` with the status functions answering for `status`. */
export function withRunStatus<T>(status: RunStatus | undefined, fn: () => T): T {
  const outer = currentStatus;
  currentStatus = status;
  try {
    return fn();
  } finally {
    currentStatus = outer;
  }
}

function statusIs(...states: readonly RunStatus[]): () => boolean {
  return () => {
    if (currentStatus === undefined) throw new Error('status functions can only be used in an action’s if:');
    return states.includes(currentStatus);
  };
}

/**
 * The size limits of one expression (documented in docs/workflows.md). Checking and evaluating
 * walk the expression's tree recursively, so a 5,000-term sum overflowed the stack; each limit
 * is far above what a real expression needs.
 */
export const EXPRESSION_LIMITS = {
  /** names, values, operators and calls in one expression */
  maxAstNodes: 1000,
  /** nesting of parentheses, lists, maps, calls and member access */
  maxDepth: 100,
  maxListElements: 1000,
  maxMapEntries: 1000,
  maxCallArguments: 32,
} as const;

/**
 * A CEL environment with Pilotage's settings: list and map literals may mix types (they are
 * JSON), optional chaining (`inputs.?ref.orValue("main")`) is on, `EXPRESSION_LIMITS` apply,
 * and `replace` of the CEL strings extension is added (the library has `split`, `trim`,
 * `lowerAscii`, `upperAscii` but not `replace`, which CI expressions need:
 * `payload.ref.replace("refs/heads/", "")`). The status functions of `if:` (`success()`,
 * `failure()`, `cancelled()`, `always()`) read the run status set by `withRunStatus`. Load-time
 * checking and run-time evaluation both use it, so they agree on what exists.
 */
export function newCelEnvironment(options: EnvironmentOptions = {}): Environment {
  return new (celJs().Environment)({
    homogeneousAggregateLiterals: false,
    enableOptionalTypes: true,
    limits: EXPRESSION_LIMITS,
    ...options,
  })
    .registerFunction('string.replace(string, string): string', (text: string, from: string, to: string) =>
      text.replaceAll(from, to),
    )
    .registerFunction('success(): bool', statusIs('running', 'succeeded'))
    .registerFunction('failure(): bool', statusIs('failed', 'errored'))
    .registerFunction('cancelled(): bool', statusIs('cancelled'))
    .registerFunction('always(): bool', () => true);
}

let dynamic: Environment | undefined;

/**
 * The environment where every name is dynamic: run-time evaluation (whose expressions were
 * type-checked when their plan was compiled; values carry their own types) and the syntax check of
 * an ad-hoc template. One, built on first use.
 */
export function dynamicCelEnvironment(): Environment {
  return (dynamic ??= newCelEnvironment({ unlistedVariablesAreDyn: true }));
}

/** A CEL type string (`string`, `list<int>`, `map<string, dyn>`), or an object of named fields. */
export type CelDeclaration = string | { readonly [field: string]: CelDeclaration };

/**
 * A CEL environment for checking, and how to write its type names in messages. `env` is built
 * when first read: a workflow without expressions never loads CEL (on-first-use.ts).
 */
export interface CheckingEnvironment {
  readonly env: Environment;
  /** `text` (a CEL error summary) with each object type's internal name replaced by its shape */
  readable(text: string): string;
}

/**
 * A checking environment declaring each root name (`inputs`, `actions`, `run`…) with its type.
 *
 * Object declarations become CEL object types, and each distinct shape is registered once,
 * whatever number of places use it. This keeps the cost linear in the size of the declarations:
 * the CEL library checks every new type against all the types already registered, so one type
 * per action (`$actions.build.outputs`) made a 10,000-action workflow take 40 s to compile.
 * Shapes get internal names (`$object3`; the library parses type names, so they cannot hold a
 * field's name) that `readable` turns into `{commit: string, size: int}` in messages; a root
 * object keeps its root's name (`$actions`).
 */
export function celEnvironmentFor(declarations: Readonly<Record<string, CelDeclaration>>): CheckingEnvironment {
  const shapeOf = new Map<string, string>();
  let env: Environment | undefined;
  const build = (): Environment => {
    const built = newCelEnvironment();
    const byShape = new Map<string, string>();
    const typeOf = (declaration: CelDeclaration, rootName?: string): string => {
      if (typeof declaration === 'string') return declaration;
      const fields: Record<string, string> = {};
      for (const [field, inner] of Object.entries(declaration)) fields[field] = typeOf(inner);
      if (rootName !== undefined) {
        built.registerType({ name: rootName, schema: fields });
        return rootName;
      }
      const shape = shapeText(fields, shapeOf);
      let name = byShape.get(shape);
      if (name === undefined) {
        name = `$object${byShape.size + 1}`;
        built.registerType({ name, schema: fields });
        byShape.set(shape, name);
        shapeOf.set(name, shape);
      }
      return name;
    };
    for (const [name, declaration] of Object.entries(declarations)) {
      built.registerVariable(name, typeOf(declaration, `$${name}`));
    }
    return built;
  };
  return {
    get env() {
      return (env ??= build());
    },
    readable: (text) => (shapeOf.size === 0 ? text : text.replace(/\$object\d+/g, (name) => shapeOf.get(name) ?? name)),
  };
}

const PLAIN_FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;

// `{a: string, "b-c": int}`: one text per shape (odd field names are quoted), nested shapes
// written out, so that equal texts mean equal types
function shapeText(fields: Readonly<Record<string, string>>, shapeOf: ReadonlyMap<string, string>): string {
  const parts = Object.entries(fields).map(
    ([field, type]) => `${PLAIN_FIELD.test(field) ? field : JSON.stringify(field)}: ${shapeOf.get(type) ?? type}`,
  );
  return `{${parts.join(', ')}}`;
}
