import { PlanError, type Issue } from '../domain/issue.js';
import type { FieldPath } from './field-path.js';
import type { SchemaReporter } from './schema-check.js';
import type { SourceDoc } from './source-doc.js';

/**
 * Collects the issues of one compilation, so that a file is reported whole rather than one
 * error at a time. Issues of the file itself come first, by position; issues of other files
 * (a referenced component.yaml) follow, grouped by file.
 */
export class IssueList {
  readonly source: SourceDoc;
  readonly #issues: Issue[] = [];
  readonly #seen = new Set<string>();

  constructor(source: SourceDoc) {
    this.source = source;
  }

  /** An issue at the value (or key) at `path` of this file, or at an exact character offset. */
  at(path: FieldPath, message: string, where: { onKey?: boolean; offset?: number } = {}): void {
    this.add(this.source.issue(path, message, where));
  }

  /** Add issues found elsewhere (another file), dropping exact repeats. */
  add(...issues: readonly Issue[]): void {
    for (const issue of issues) {
      const key = JSON.stringify(issue);
      if (this.#seen.has(key)) continue;
      this.#seen.add(key);
      this.#issues.push(issue);
    }
  }

  /** A reporter for `checkSchema`, relative to `base`. */
  reporter(base: FieldPath = []): SchemaReporter {
    return (path, message, onKey) => this.at([...base, ...path], message, { onKey: onKey ?? false });
  }

  get count(): number {
    return this.#issues.length;
  }

  /** The issues, sorted: this file first by line and column, then other files. */
  list(): Issue[] {
    const own = this.source.file;
    return [...this.#issues].sort(
      (a, b) =>
        Number(a.file !== own) - Number(b.file !== own) ||
        (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
        a.line - b.line ||
        a.column - b.column,
    );
  }

  /** Throw PlanError with every issue, if there is any. */
  throwIfAny(): void {
    if (this.#issues.length > 0) throw new PlanError(this.list());
  }
}
