import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/**
 * The variable by which the local executor marks every process it starts: all of a component's
 * processes inherit it, and a later engine finds them under `/proc/<pid>/environ`. Its value
 * says which engine (the store's engine id), which engine *process* (so that a live engine's
 * processes are never touched) and which task run the process belongs to.
 */
export const PROCESS_MARK_ENV = 'PILOTAGE_TASK_MARK';

/** What a mark says. */
export interface ProcessMark {
  /** the engine id (config `engineId`): the store and machine the engine works for */
  readonly engineId: string;
  /** the engine process that started it: `<pid>.<start time>` (see `currentEngineProcess`) */
  readonly engineProcess: string;
  readonly runId: string;
  readonly taskRunId: string;
}

/** The mark's text: `v1/<engineId>/<engineProcess>/<runId>/<taskRunId>` (no part holds `/`). */
export function formatMark(mark: ProcessMark): string {
  return ['v1', mark.engineId, mark.engineProcess, mark.runId, mark.taskRunId].join('/');
}

/** The mark of a variable's value, or undefined when it is not one (of this version). */
export function parseMark(text: string): ProcessMark | undefined {
  const parts = text.split('/');
  const [version, engineId, engineProcess, runId, taskRunId] = parts;
  if (parts.length !== 5 || version !== 'v1' || !engineId || !engineProcess || !runId || !taskRunId) return undefined;
  return { engineId, engineProcess, runId, taskRunId };
}

/**
 * The identity of a process that stays unique across pid reuse: `<pid>.<start time>`, the start
 * time in clock ticks after boot (field 22 of `/proc/<pid>/stat`). Undefined when the process
 * does not exist or is a zombie (it is dead: nobody has reaped it yet).
 */
export function processIdentityFromStat(pid: number, stat: string): string | undefined {
  // "pid (comm) S ppid pgrp …": comm may hold spaces and parentheses, so read after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const start = fields[19];
  if (state === undefined || state === 'Z' || state === 'X' || start === undefined || !/^\d+$/.test(start)) {
    return undefined;
  }
  return `${pid}.${start}`;
}

let current: string | undefined;

/**
 * This engine process's identity (`processIdentityFromStat` of itself). Where `/proc` cannot be
 * read (not Linux) it is `<pid>.<random>`: unique, but no other process can tell whether it is
 * alive, so orphans are then never reaped (see `engineProcessAlive`).
 */
export function currentEngineProcess(): string {
  if (current !== undefined) return current;
  try {
    current = processIdentityFromStat(process.pid, readFileSync('/proc/self/stat', 'latin1'));
  } catch {
    current = undefined;
  }
  current ??= `${process.pid}.r${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  return current;
}

/**
 * Is the engine process of this identity still running? Alive when `/proc/<pid>/stat` shows a
 * live process that started at the same time; an identity that `/proc` cannot check (another
 * platform's, or one this code does not understand) counts as alive, so it is never reaped.
 */
export async function engineProcessAlive(identity: string): Promise<boolean> {
  const match = /^(\d+)\.(\d+)$/.exec(identity);
  if (match === null) return true;
  let stat: string;
  try {
    stat = await readFile(`/proc/${match[1]}/stat`, 'latin1');
  } catch (error) {
    // ENOENT: gone; anything else (no /proc at all): cannot tell, so alive
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
  return processIdentityFromStat(Number(match[1]), stat) === identity;
}
