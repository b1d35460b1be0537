import { isAbsolute, resolve } from 'node:path';
import { ExecutorError } from '../../domain/errors.js';
import type { ResolvedComponent } from '../../plan/types.js';

/** The program and arguments to spawn. */
export interface Argv {
  readonly file: string;
  readonly args: readonly string[];
}

/**
 * argv of a component for the local executor: `command` followed by `args`. A first element
 * starting with `./` or `../` is resolved against the component's folder (`dir`); a bare name
 * (`sh`, `node`) is looked up on PATH by spawn; an absolute path is used as is. Throws an
 * ExecutorError when the component has no command. Pure.
 */
export function resolveArgv(component: ResolvedComponent): Argv {
  const [first, ...rest] = component.command ?? [];
  if (first === undefined || first === '') {
    throw new ExecutorError(
      `component ${component.name}@${component.version} has no command: the local executor runs 'command' (or an inline 'run:')`,
    );
  }
  const relative = first.startsWith('./') || first.startsWith('../');
  const file = relative && component.dir !== undefined && !isAbsolute(first) ? resolve(component.dir, first) : first;
  return { file, args: [...rest, ...(component.args ?? [])] };
}
