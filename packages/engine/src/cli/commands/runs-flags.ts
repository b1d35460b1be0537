import { ValidationError } from '../../domain/errors.js';
import type { TaskRunRecord } from '../../store/types.js';
import type { ServerFlags } from '../with-server.js';

/** Flags every `runs` subcommand takes: a local store, or a server. */
export interface Flags extends ServerFlags {
  db?: string;
  json?: boolean;
}

/** `runs list` filters. */
export interface ListFlags extends Flags {
  workflow?: string;
  state?: string;
  trigger?: string;
  since?: string;
  until?: string;
  limit: string;
  before?: string;
  cursor?: string;
  /** only the child runs of this run (actions that `uses:` a workflow) */
  parent?: string;
}

/** `runs show` options. */
export interface ShowFlags extends Flags {
  full?: boolean;
  /** how many of each attempt's latest TASK_STATUS reports to print */
  statuses?: string;
}

/** `--statuses N` as a number (0 when absent); ValidationError for anything but a whole number ≥ 0. */
export function statusCountFlag(text: string | undefined): number {
  if (text === undefined) return 0;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new ValidationError(`--statuses must be a whole number ≥ 0, got "${text}"`);
  return n;
}

/** `runs logs` options. */
export interface LogsFlags extends Flags {
  task?: string;
  action?: string;
  follow?: boolean;
}

/** Whether a task run is the one `--task`/`--action` names (an action name or a task run id). */
export function selectsTask(flags: LogsFlags, task: Pick<TaskRunRecord, 'id' | 'action'>): boolean {
  const wanted = flags.task ?? flags.action;
  return wanted === undefined || task.action === wanted || task.id === wanted;
}
