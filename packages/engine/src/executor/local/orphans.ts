import { readdir, readFile } from 'node:fs/promises';
import { ExecutorError } from '../../domain/errors.js';
import { groupAlive, signalGroup, waitGroupGone } from './process-group.js';
import { engineProcessAlive, parseMark, PROCESS_MARK_ENV, type ProcessMark } from './process-mark.js';

/** A process group that a dead engine process left running: its marked members. */
export interface OrphanGroup {
  /** the process group id (the pid of the component's first process) */
  readonly pgid: number;
  /** the mark its members carry (the first one found) */
  readonly mark: ProcessMark;
  /** the marked live members found, ascending */
  readonly pids: readonly number[];
}

/** How to tell a live engine process from a dead one (default: `engineProcessAlive`, from /proc). */
export type EngineProcessAlive = (identity: string) => Promise<boolean>;

/** A live process carrying a mark, as read from /proc. */
interface MarkedProcess {
  readonly pid: number;
  readonly pgid: number;
  readonly mark: ProcessMark;
}

const MARK_PREFIX = Buffer.from(`${PROCESS_MARK_ENV}=`);

/**
 * Live processes whose environment carries a mark of `engineId` (Linux; elsewhere none). Only
 * processes this user may read are seen; zombies are not alive and are skipped.
 */
async function markedProcesses(engineId: string): Promise<MarkedProcess[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const found = await Promise.all(
    entries.filter((name) => /^\d+$/.test(name)).map((name) => markedProcess(Number(name), engineId)),
  );
  return found.filter((process): process is MarkedProcess => process !== undefined);
}

async function markedProcess(pid: number, engineId: string): Promise<MarkedProcess | undefined> {
  let mark: ProcessMark | undefined;
  let stat: string;
  try {
    mark = markIn(await readFile(`/proc/${pid}/environ`));
    // most processes carry no mark: their state is not even read
    if (mark === undefined || mark.engineId !== engineId) return undefined;
    stat = await readFile(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined; // gone meanwhile, or not ours to read
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  const pgid = Number(fields[2]);
  return Number.isInteger(pgid) && pgid > 0 ? { pid, pgid, mark } : undefined;
}

/** The mark in a NUL-separated environment block, if any. */
function markIn(environ: Buffer): ProcessMark | undefined {
  let at = environ.indexOf(MARK_PREFIX);
  while (at > 0 && environ[at - 1] !== 0) at = environ.indexOf(MARK_PREFIX, at + 1);
  if (at < 0) return undefined;
  const end = environ.indexOf(0, at);
  return parseMark(environ.subarray(at + MARK_PREFIX.length, end < 0 ? undefined : end).toString('utf8'));
}

/**
 * The process groups that engine processes of `engineId` left behind when they died: groups
 * holding a live process marked (PROCESS_MARK_ENV) by an engine process that `alive` says is
 * dead. The groups of live engine processes (this one, another replica, a `pilotage run` on the
 * same store) are never returned, nor any group without a marked member. Linux only (/proc).
 */
export async function findOrphanGroups(
  engineId: string,
  alive: EngineProcessAlive = engineProcessAlive,
): Promise<OrphanGroup[]> {
  const verdicts = new Map<string, Promise<boolean>>();
  const isAlive = (identity: string): Promise<boolean> => {
    let verdict = verdicts.get(identity);
    if (verdict === undefined) verdicts.set(identity, (verdict = alive(identity)));
    return verdict;
  };
  const groups = new Map<number, { mark: ProcessMark; pids: number[] }>();
  for (const marked of await markedProcesses(engineId)) {
    if (await isAlive(marked.mark.engineProcess)) continue;
    const group = groups.get(marked.pgid);
    if (group === undefined) groups.set(marked.pgid, { mark: marked.mark, pids: [marked.pid] });
    else group.pids.push(marked.pid);
  }
  return [...groups]
    .map(([pgid, { mark, pids }]) => ({ pgid, mark, pids: pids.sort((a, b) => a - b) }))
    .sort((a, b) => a.pgid - b.pgid);
}

/**
 * Stop an orphan group: SIGTERM to the whole group, SIGKILL `graceMs` later, and wait until no
 * member is alive. Just before signalling, the group is checked to still hold a process with
 * the same mark (a pid is never signalled on old information). Resolves when the group is gone;
 * throws an ExecutorError when it is still alive `graceMs` + 5 s after the SIGKILL.
 *
 * Each component starts in a session of its own (the local executor spawns it detached), so a
 * marked process's group holds only that component's own processes.
 */
export async function killOrphanGroup(group: OrphanGroup, graceMs: number): Promise<void> {
  if (!(await stillMarked(group))) return;
  signalGroup(group.pgid, 'SIGTERM');
  if (graceMs > 0 && !(await waitGroupGone(group.pgid, graceMs))) {
    if (!(await stillMarked(group))) return;
  }
  if (await groupAlive(group.pgid)) {
    signalGroup(group.pgid, 'SIGKILL');
    if (!(await waitGroupGone(group.pgid, 5000))) {
      throw new ExecutorError(
        `process group ${group.pgid} of task run ${group.mark.taskRunId} (left by engine process ` +
          `${group.mark.engineProcess}) is still alive after SIGKILL`,
      );
    }
  }
}

/**
 * Find every orphan group of `engineId` and kill it (`killOrphanGroup`), all at once; resolves
 * with the groups found once all are gone. For an engine start, and for a replica taking over a
 * dead replica's runs on the same machine. Throws an AggregateError of ExecutorErrors when some
 * group survived.
 */
export async function reapOrphanGroups(
  engineId: string,
  options: { readonly graceMs: number; readonly alive?: EngineProcessAlive },
): Promise<OrphanGroup[]> {
  const groups = await findOrphanGroups(engineId, options.alive);
  const results = await Promise.allSettled(groups.map((group) => killOrphanGroup(group, options.graceMs)));
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  if (failures.length > 0) throw new AggregateError(failures, `${failures.length} orphan group(s) survived`);
  return groups;
}

/** Does the group still hold a live process carrying the group's mark? */
async function stillMarked(group: OrphanGroup): Promise<boolean> {
  for (const pid of group.pids) {
    const marked = await markedProcess(pid, group.mark.engineId);
    if (marked?.pgid === group.pgid && marked.mark.taskRunId === group.mark.taskRunId) return true;
  }
  // the marked members found earlier are gone: a member forked later may still be there
  const now = await markedProcesses(group.mark.engineId);
  return now.some((p) => p.pgid === group.pgid && p.mark.taskRunId === group.mark.taskRunId);
}
