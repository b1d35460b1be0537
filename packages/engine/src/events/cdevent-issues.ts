import type { ErrorObject } from 'ajv';
import type { CdeventIssue } from './types.js';

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Ajv errors → issues whose path points at the offending key itself. */
export function toIssues(errors: readonly ErrorObject[] | null | undefined, prefix = ''): CdeventIssue[] {
  const issues: CdeventIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    let path = e.instancePath;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      path += '/' + escapePointer(String(e.params.missingProperty));
      message = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      path += '/' + escapePointer(String(e.params.additionalProperty));
      message = 'is not allowed here (additionalProperties is false)';
    } else if (e.keyword === 'enum') {
      message = `must be one of ${JSON.stringify(e.params.allowedValues)}`;
    }
    const issue = { path, message: prefix + message };
    const key = `${issue.path}\u0000${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
}
