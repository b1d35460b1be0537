import { PilotageError } from './errors.js';

/**
 * One problem found in a file: where it is and what was expected.
 * `line` and `column` are 1-based; `path` is the field path such as `stages[1].actions[0].with.repo`.
 */
export interface Issue {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly path: string;
  readonly message: string;
}

/** `file:line:column: path: message`, the form editors and terminals link. */
export function formatIssue(issue: Issue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/** A workflow or component file that cannot be compiled. Lists every issue found. */
export class PlanError extends PilotageError {
  readonly issues: readonly Issue[];
  constructor(issues: readonly Issue[]) {
    super('PLAN_INVALID', issues.map(formatIssue).join('\n'), { details: issues });
    this.issues = issues;
  }
}
