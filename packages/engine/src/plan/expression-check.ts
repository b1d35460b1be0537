import type { ASTNode } from '@marcbachmann/cel-js';
import {
  celEnvironmentFor,
  STATUS_FUNCTIONS,
  type CelDeclaration,
  type CheckingEnvironment,
} from './cel-environment.js';
import { didYouMean } from './did-you-mean.js';
import { celJs } from './on-first-use.js';
import { quoteForMessage } from './quote.js';

/** What an earlier (or later) action looks like to expressions. */
export interface ActionInfo {
  readonly stage: string;
  readonly stageIndex: number;
  /** `name@version` of its component, for messages */
  readonly component: string;
  /** its declared outputs when the outputs schema is closed (see `closedFields`) */
  readonly outputFields?: Readonly<Record<string, unknown>>;
  /** a matrix action: its outputs are a list, one object per combination */
  readonly matrix?: boolean;
  /** it is in a finally stage */
  readonly finally?: boolean;
}

/** The names an expression may read in one place of a file, and their CEL declarations. */
export interface ExpressionScope {
  /** root name → CEL type string, or an object declaration (field → CEL type) */
  readonly declarations: Readonly<Record<string, CelDeclaration>>;
  /** the declared workflow inputs when closed: reading another field is an error */
  readonly inputFields?: Readonly<Record<string, unknown>>;
  /** all actions of the workflow, and where the reading action stands */
  readonly actions?: {
    readonly all: ReadonlyMap<string, ActionInfo>;
    readonly stageIndex: number;
    readonly stage: string;
  };
  /** conditions here may call the status functions (`success()`…): an action's `if:` */
  readonly statusFunctions?: boolean;
  /** the keys of a matrix action's combinations, when known: reading another is an error */
  readonly matrixKeys?: readonly string[];
}

/** A problem in an expression, at an offset of its CEL source. */
export interface ExpressionProblem {
  readonly offset: number;
  readonly message: string;
}

/** The outcome of checking one expression. */
export interface ExpressionCheck {
  readonly problems: readonly ExpressionProblem[];
  /** actions it reads (all visible actions when it reads `actions` by a computed name) */
  readonly needs: ReadonlySet<string>;
  /** the CEL type of its value, when it is valid */
  readonly type?: string;
  /** it calls a status function (`success()`, `failure()`, `cancelled()`, `always()`) */
  readonly readsStatus?: boolean;
  /** it reads `secrets` */
  readonly readsSecrets?: boolean;
}

const MEMBER_OPS = new Set(['.', '.?', '[]', '[?]']);
const ACTION_FIELDS = ['outputs', 'status'];

/**
 * Parses and type-checks expressions of one scope. References are checked first, with messages
 * about actions and stages (which is what keeps an action from reading its own or a later
 * stage); then the CEL type checker runs. Never evaluates anything.
 *
 * `env` is the CEL environment of `scope.declarations` when the caller shares one between scopes
 * that declare the same names (every stage of a workflow declares all its actions: building one
 * environment per stage made compile time grow with stages × actions); by default it is built here.
 */
export class ExpressionChecker {
  readonly #scope: ExpressionScope;
  readonly #env: CheckingEnvironment;
  readonly #roots: readonly string[];

  constructor(scope: ExpressionScope, env: CheckingEnvironment = celEnvironmentFor(scope.declarations)) {
    this.#scope = scope;
    this.#roots = Object.keys(scope.declarations);
    this.#env = env;
  }

  /**
   * The checker of a matrix action: this scope, with `matrix` declared as `declaration` (key →
   * type, whose keys are then the only ones it may read; or an open type).
   */
  withMatrix(declaration: string | Readonly<Record<string, string>>): ExpressionChecker {
    return new ExpressionChecker({
      ...this.#scope,
      declarations: { ...this.#scope.declarations, matrix: declaration },
      ...(typeof declaration === 'string' ? {} : { matrixKeys: Object.keys(declaration) }),
    });
  }

  /**
   * Check `source`; with `condition`, its type must be `bool` (or `dyn`, checked at run time).
   * `self` names the action the expression belongs to (reading it is a cycle).
   */
  check(source: string, condition = false, self?: string): ExpressionCheck {
    let parsed;
    try {
      parsed = this.#env.env.parse(source);
    } catch (error) {
      if (!(error instanceof celJs().ParseError)) throw error;
      const summary =
        error.summary === 'Unexpected token: EOF'
          ? 'unexpected end of the expression'
          : (limitMessage(error.summary) ?? error.summary.replace(/\bEOF\b/, 'the end'));
      return failed(error.range?.start ?? 0, `invalid expression: ${summary}`);
    }
    const walk = new ReferenceWalk(this.#scope, source, self, condition && this.#scope.statusFunctions === true);
    walk.visit(parsed.ast);
    const reads = {
      ...(walk.readsStatus ? { readsStatus: true } : {}),
      ...(walk.readsSecrets ? { readsSecrets: true } : {}),
    };
    if (walk.problems.length > 0) return { problems: walk.problems, needs: walk.needs, ...reads };
    const result = parsed.check();
    if (!result.valid) {
      const error = result.error;
      const offset = error?.range?.start ?? 0;
      const summary = this.#env.readable(error?.summary ?? 'invalid expression');
      const unknown = /^Unknown variable: (.+)$/.exec(summary)?.[1];
      if (unknown !== undefined) {
        return failed(
          offset,
          `unknown name ${quoteForMessage(unknown)}${didYouMean(unknown, this.#roots)}; expressions here can read ${this.#roots.join(', ')}`,
        );
      }
      const hint =
        error?.code === 'no_such_overload' ? ' (CEL does not convert types: use string(), int() or double())' : '';
      return failed(offset, `type error: ${summary}${hint}`);
    }
    const type = result.type ?? 'dyn';
    if (condition && type !== 'bool' && type !== 'dyn') {
      return {
        problems: [{ offset: 0, message: `expected a condition (bool), but the expression is ${type}` }],
        needs: walk.needs,
        ...reads,
      };
    }
    return { problems: [], needs: walk.needs, type, ...reads };
  }
}

/** The checker bound to one action: reading that action is reported as a cycle. */
export function forAction(
  checker: ExpressionChecker,
  self: string,
): { check(source: string, condition?: boolean): ExpressionCheck } {
  return { check: (source, condition) => checker.check(source, condition, self) };
}

const LIMIT_WORDS: Readonly<Record<string, string>> = {
  maxAstNodes: 'the expression is too large: at most %d names, values, operators and calls',
  maxDepth: 'the expression nests too deep: at most %d levels',
  maxListElements: 'the list is too long: at most %d items',
  maxMapEntries: 'the map is too large: at most %d entries',
  maxCallArguments: 'the call has too many arguments: at most %d',
};

// "Exceeded maxAstNodes (1000)" → what to do about it
function limitMessage(summary: string): string | undefined {
  const match = /^Exceeded (\w+) \((\d+)\)/.exec(summary);
  const words = match ? LIMIT_WORDS[match[1]!] : undefined;
  return words === undefined
    ? undefined
    : `${words.replace('%d', match![2]!)}; split it into several values or actions`;
}

function failed(offset: number, message: string): ExpressionCheck {
  return { problems: [{ offset, message }], needs: new Set() };
}

interface Segment {
  /** the constant field name, or undefined for a computed index */
  readonly key?: string;
  readonly offset: number;
  readonly end: number;
  readonly computed?: ASTNode;
}

/** Walks an AST for `actions.<name>…` and `inputs.<field>` and checks them against the scope. */
class ReferenceWalk {
  readonly problems: ExpressionProblem[] = [];
  readonly needs = new Set<string>();
  readsStatus = false;
  readsSecrets = false;

  constructor(
    private readonly scope: ExpressionScope,
    private readonly source: string,
    private readonly self: string | undefined,
    private readonly statusAllowed: boolean,
  ) {}

  visit(node: unknown): void {
    if (Array.isArray(node)) {
      for (const child of node) this.visit(child);
      return;
    }
    if (!isNode(node)) return;
    if (MEMBER_OPS.has(node.op)) {
      const { base, segments } = chainOf(node);
      if (base.op === 'id' && base.args === 'actions' && this.scope.actions) this.actionChain(segments);
      else if (base.op === 'id' && base.args === 'inputs' && this.scope.inputFields) this.inputChain(segments);
      else if (base.op === 'id' && base.args === 'matrix' && this.scope.matrixKeys) this.matrixChain(segments);
      else this.visit(base);
      for (const segment of segments) if (segment.computed) this.visit(segment.computed);
      return;
    }
    if (node.op === 'id') {
      if (node.args === 'actions') this.needAll();
      if (node.args === 'secrets') this.readsSecrets = true;
      return;
    }
    if (node.op === 'call') this.statusCall(node);
    this.visit(node.args);
  }

  private statusCall(node: ASTNode): void {
    const [name, args] = node.args as [unknown, unknown];
    if (!(STATUS_FUNCTIONS as readonly unknown[]).includes(name) || !Array.isArray(args) || args.length > 0) return;
    this.readsStatus = true;
    if (this.statusAllowed) return;
    this.problems.push({
      offset: node.start,
      message: `${String(name)}() is a status function: it can only be used in an action's if:`,
    });
  }

  private actionChain(segments: readonly Segment[]): void {
    const actions = this.scope.actions;
    const first = segments[0];
    if (!actions || first === undefined || first.key === undefined) {
      this.needAll();
      return;
    }
    const name = first.key;
    const info = actions.all.get(name);
    const problem = (offset: number, message: string): void => void this.problems.push({ offset, message });
    if (info === undefined) {
      const dashed = this.dashedName(first, actions.all);
      problem(
        first.offset,
        dashed
          ? `write actions["${dashed}"]: in expressions a name with "-" must use the index form`
          : `unknown action "${name}"${didYouMean(name, actions.all.keys())}`,
      );
    } else if (name === this.self) {
      problem(
        first.offset,
        `action "${name}" refers to itself (a cycle): an action can only read actions of earlier stages`,
      );
    } else if (info.stageIndex === actions.stageIndex) {
      problem(
        first.offset,
        `action "${name}" is in the same stage "${info.stage}" (a cycle: they run in parallel); an action can only read actions of earlier stages`,
      );
    } else if (info.stageIndex > actions.stageIndex) {
      problem(
        first.offset,
        info.finally
          ? `action "${name}" is in the finally stage "${info.stage}", which runs after every other stage; only later finally stages can read it`
          : `action "${name}" is in a later stage "${info.stage}"; an action can only read actions of earlier stages`,
      );
    } else {
      this.needs.add(name);
      this.actionFields(name, info, segments);
    }
  }

  private actionFields(name: string, info: ActionInfo, segments: readonly Segment[]): void {
    const field = segments[1];
    if (field?.key === undefined) return;
    if (!ACTION_FIELDS.includes(field.key)) {
      this.problems.push({
        offset: field.offset,
        message: `unknown field "${field.key}" of action "${name}"${didYouMean(field.key, ACTION_FIELDS)}; actions have outputs and status`,
      });
      return;
    }
    if (info.matrix && field.key === 'outputs' && segments[2]?.key !== undefined) {
      this.problems.push({
        offset: segments[2].offset,
        message: `action "${name}" has a matrix: its outputs are a list, one per combination; read actions.${name}.outputs[0].${segments[2].key}, or actions.${name}.outputs.map(o, o.${segments[2].key})`,
      });
      return;
    }
    // a matrix action's outputs are a list: check the field read from one of its items
    const output = info.matrix ? (segments[2]?.key === undefined ? segments[3] : undefined) : segments[2];
    if (field.key !== 'outputs' || output?.key === undefined || info.outputFields === undefined) return;
    if (Object.hasOwn(info.outputFields, output.key)) return;
    const declared = Object.keys(info.outputFields);
    this.problems.push({
      offset: output.offset,
      message:
        `action "${name}" (${info.component}) declares no output "${output.key}"${didYouMean(output.key, declared)}; ` +
        (declared.length > 0 ? `its outputs are ${declared.join(', ')}` : 'it declares no outputs'),
    });
  }

  private inputChain(segments: readonly Segment[]): void {
    const fields = this.scope.inputFields;
    const first = segments[0];
    if (fields === undefined || first?.key === undefined || Object.hasOwn(fields, first.key)) return;
    const declared = Object.keys(fields);
    const dashed = this.dashedName(first, new Set(declared));
    this.problems.push({
      offset: first.offset,
      message: dashed
        ? `write inputs["${dashed}"]: in expressions a name with "-" must use the index form`
        : `the workflow inputs have no field "${first.key}"${didYouMean(first.key, declared)}; ` +
          (declared.length > 0 ? `declared: ${declared.join(', ')}` : 'none are declared'),
    });
  }

  private matrixChain(segments: readonly Segment[]): void {
    const keys = this.scope.matrixKeys ?? [];
    const first = segments[0];
    if (first?.key === undefined || keys.includes(first.key)) return;
    this.problems.push({
      offset: first.offset,
      message: `the matrix has no key "${first.key}"${didYouMean(first.key, keys)}; its keys are ${keys.join(', ')}`,
    });
  }

  // `actions.my-action` parses as `actions.my - action`: recognise the name the user meant
  private dashedName(segment: Segment, names: { has(name: string): boolean }): string | undefined {
    const rest = /^(-[A-Za-z0-9_]+)+/.exec(this.source.slice(segment.end))?.[0];
    if (rest === undefined || segment.key === undefined) return undefined;
    const parts = rest.split('-').slice(1);
    for (let count = parts.length; count > 0; count--) {
      const candidate = [segment.key, ...parts.slice(0, count)].join('-');
      if (names.has(candidate)) return candidate;
    }
    return undefined;
  }

  private needAll(): void {
    const actions = this.scope.actions;
    if (!actions) return;
    for (const [name, info] of actions.all) if (info.stageIndex < actions.stageIndex) this.needs.add(name);
  }
}

function chainOf(node: ASTNode): { base: ASTNode; segments: Segment[] } {
  const segments: Segment[] = [];
  let current: ASTNode = node;
  while (MEMBER_OPS.has(current.op)) {
    const [receiver, selector] = current.args as [ASTNode, unknown];
    if (typeof selector === 'string') {
      segments.unshift({ key: selector, offset: current.end - selector.length, end: current.end });
    } else if (isNode(selector) && selector.op === 'value' && typeof selector.args === 'string') {
      segments.unshift({ key: selector.args, offset: selector.start, end: selector.end });
    } else if (isNode(selector)) {
      segments.unshift({ offset: selector.start, end: selector.end, computed: selector });
    }
    current = receiver;
  }
  return { base: current, segments };
}

function isNode(value: unknown): value is ASTNode {
  return (
    typeof value === 'object' && value !== null && typeof (value as { op?: unknown }).op === 'string' && 'args' in value
  );
}
