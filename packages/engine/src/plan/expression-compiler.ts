import type { JsonValue } from '../domain/vocabulary.js';
import type { ExpressionCheck } from './expression-check.js';
import { hasExpression, splitExpressions } from './expression-text.js';
import type { FieldPath } from './field-path.js';
import type { IssueList } from './issue-list.js';
import { fileOffset } from './string-offset.js';
import { buildTemplate, type FoundExpression, type TemplateProblem } from './template.js';
import type { Expression, Template } from './types.js';

/** Checks expressions in one scope (an ExpressionChecker, bound to the action they belong to). */
export interface ScopedChecker {
  check(source: string, condition?: boolean): ExpressionCheck;
}

/** A compiled template and the actions its expressions read. */
export interface CompiledTemplate {
  readonly template: Template;
  readonly needs: ReadonlySet<string>;
  /** the expressions, by the path of the string that holds them */
  readonly found: readonly FoundExpression[];
  /** one of its expressions reads `secrets` */
  readonly readsSecrets: boolean;
}

/**
 * Compiles the templated values and conditions of one file: splits `${{ }}`, gives every
 * expression its `file:line:column`, checks it in a scope, and reports problems at the exact
 * character where it can.
 */
export class ExpressionCompiler {
  constructor(private readonly issues: IssueList) {}

  /**
   * A value of `with:`, `env:` or webhook `inputs:`, checked in `checker`'s scope. With
   * `noSecrets` (a reason), an expression that reads `secrets` is reported with it.
   */
  template(value: JsonValue, path: FieldPath, checker: ScopedChecker, noSecrets?: string): CompiledTemplate {
    const found: FoundExpression[] = [];
    const problems: TemplateProblem[] = [];
    const template = buildTemplate(value, path, (at, text, start) => this.at(at, text, start), found, problems);
    for (const problem of problems)
      this.reportAt(problem.path, problem.text, problem.error.offset, problem.error.message);
    const needs = new Set<string>();
    let readsSecrets = false;
    for (const item of found) {
      const result = checker.check(item.expr.source);
      for (const need of result.needs) needs.add(need);
      readsSecrets ||= result.readsSecrets === true;
      if (noSecrets !== undefined && result.readsSecrets === true) {
        this.reportAt(item.path, item.text, item.sourceStart, `secrets cannot be read here: ${noSecrets}`);
      }
      for (const p of result.problems) this.reportAt(item.path, item.text, item.sourceStart + p.offset, p.message);
    }
    return { template, needs, found, readsSecrets };
  }

  /**
   * A condition (`if:`, `filter:`): `true`/`false`, one whole `${{ expr }}`, or CEL written
   * without `${{ }}`. Must type-check as bool (or dyn). Returns undefined when it is invalid.
   */
  condition(
    value: JsonValue,
    path: FieldPath,
    checker: ScopedChecker,
  ): { expr?: Expression; needs: ReadonlySet<string>; readsStatus?: boolean } {
    const none = { needs: new Set<string>() };
    let source: string;
    let sourceStart = 0;
    let start = 0;
    const text = typeof value === 'string' ? value : String(value);
    if (typeof value === 'boolean') {
      source = text;
    } else if (typeof value !== 'string') {
      return none;
    } else if (hasExpression(value)) {
      const segments = splitExpressions(value);
      if (!Array.isArray(segments)) {
        this.reportAt(path, value, segments.offset, segments.message);
        return none;
      }
      const [only] = segments;
      if (segments.length !== 1 || only === undefined || only.kind !== 'expression') {
        this.issues.at(
          path,
          'a condition must be one expression: write "${{ a && b }}", or the CEL alone without ${{ }}',
        );
        return none;
      }
      source = only.source;
      sourceStart = only.sourceStart;
      start = only.start;
    } else {
      source = value.trim();
      sourceStart = value.length - value.trimStart().length;
      start = sourceStart;
      if (source === '') {
        this.issues.at(path, 'empty condition');
        return none;
      }
    }
    const result = checker.check(source, true);
    for (const p of result.problems) this.reportAt(path, text, sourceStart + p.offset, p.message);
    if (result.problems.length > 0) return none;
    return {
      expr: { source, at: this.at(path, text, start) },
      needs: result.needs,
      ...(result.readsStatus ? { readsStatus: true } : {}),
    };
  }

  /** `file:line:column` of character `index` of the string at `path`. */
  at(path: FieldPath, text: string, index: number): string {
    const source = this.issues.source;
    const position = source.positionAt(fileOffset(source, path, text, index));
    return `${source.file}:${position.line}:${position.column}`;
  }

  private reportAt(path: FieldPath, text: string, index: number, message: string): void {
    this.issues.at(path, message, { offset: fileOffset(this.issues.source, path, text, index) });
  }
}
