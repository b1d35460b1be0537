import { stat } from 'node:fs/promises';
import { ExecutorError } from '../../domain/errors.js';
import type { Executor, LogLine, RunningRef, TaskHandle, TaskSpec } from '../executor.js';
import { componentEnv, LOCAL_BASE_ENV, snapshotEnv } from '../shared/component-env.js';
import { freeLoopbackPort } from '../shared/free-port.js';
import { createHostWorkspaces, type HostWorkspaces } from '../shared/host-workspaces.js';
import { LocalTask } from './local-task.js';
import { findOrphanGroups, killOrphanGroup, type EngineProcessAlive, type OrphanGroup } from './orphans.js';
import { currentEngineProcess, formatMark, PROCESS_MARK_ENV } from './process-mark.js';
import { resolveArgv } from './resolve-command.js';
import { createProcessStarter, type ProcessStarter, type SpawnedProcess } from './spawner.js';

/** Options of the local executor. */
export interface LocalExecutorOptions {
  /** default grace between SIGTERM and SIGKILL in `kill`, ms; default 5000 */
  readonly killGraceMs?: number;
  /**
   * the engine's environment, from which components inherit only the base (LOCAL_BASE_ENV) and
   * what `passEnv` allows; default: this process's
   */
  readonly engineEnv?: Readonly<Record<string, string | undefined>>;
  /** names and `*` globs of the engine's environment every component inherits (the `passEnv` setting) */
  readonly passEnv?: readonly string[];
  /**
   * the engine id (config `engineId`): every process started is marked with it (PROCESS_MARK_ENV),
   * and `list()` reports the groups that dead engine processes of this id left. Without it,
   * nothing is marked and `list()` is [].
   */
  readonly engineId?: string;
  /** this engine process's identity in the mark; default `currentEngineProcess()` */
  readonly engineProcess?: string;
  /** how `list()` tells a live engine process from a dead one; default from /proc */
  readonly engineProcessAlive?: EngineProcessAlive;
  /** where run workspaces are made (default: folders under the system's temp dir) */
  readonly workspaces?: HostWorkspaces;
  /**
   * after how many processes started directly the rest go through a small spawner process
   * (spawner.ts: forking this large process costs more as it grows); default 1, Infinity: never
   */
  readonly spawnerAfter?: number;
  /**
   * start processes with the native addon when it was built (native-spawn.ts); default true.
   * false: through the spawner process (`spawnerAfter`), as where the addon could not be built
   */
  readonly native?: boolean;
  /** how processes are started (tests); default `createProcessStarter({ spawnerAfter, native })`; closed by `close()` */
  readonly starter?: ProcessStarter;
}

/** Default grace between SIGTERM and SIGKILL, ms. */
export const LOCAL_KILL_GRACE_MS = 5000;

/**
 * The embedded executor: runs each component as a process group on this machine (POSIX only).
 * - a run's workspace is a folder on this machine (see HostWorkspaces), the components'
 *   working directory; `releaseRun` removes it unless kept.
 * - argv is `command` + `args`; `./x` resolves against the component's folder, bare names on
 *   the PATH of the merged env; working directory is the run's workspace.
 * - env is `componentEnv`: the base (PATH, HOME, LANG, LC_*, TZ, TMPDIR, USER) and what `passEnv`
 *   allows of this process's env, then `spec.env`; nothing else of the engine's (its
 *   PILOTAGE_* settings and secrets least of all). A component that declares `endpoint`
 *   gets a free loopback port in `CO_ENDPOINT_PORT` and must listen on it
 *   (`endpointUrl` = `http://127.0.0.1:PORT<path>`; the declared port is for containers).
 * - stdin is closed; stdout and stderr are delivered line by line (see LineSplitter).
 * - `kill` signals the whole group; when the main process ends, anything left in its group is
 *   killed. A process that leaves the group (setsid, double-fork daemons that do so) escapes.
 * - with an `engineId`, every process carries PROCESS_MARK_ENV (engine id, this engine process's
 *   identity, run and task run), which its children inherit. A component cannot outlive the
 *   engine's control unnoticed: if the engine process dies (`kill -9`), its groups run on as
 *   orphans, and the next engine of the same id finds them: `list()` reports the groups of
 *   marked processes whose engine process is dead (never those of a live one: another replica,
 *   a `pilotage run` on the same store), `attach()` cannot re-acquire them (undefined), and
 *   `destroy(ref)` stops them (SIGTERM, SIGKILL after the kill grace) and resolves once they are
 *   gone, so recovery records them lost and removes them before any retry starts.
 */
export function createLocalExecutor(options: LocalExecutorOptions = {}): Executor {
  const killGraceMs = options.killGraceMs ?? LOCAL_KILL_GRACE_MS;
  const tasks = new Map<string, LocalTask>();
  /** groups a dead engine process left, as `list()` last found them, by ref */
  const orphans = new Map<string, OrphanGroup>();
  const engineProcess = options.engineProcess ?? currentEngineProcess();
  const envPolicy = {
    engineEnv: snapshotEnv(options.engineEnv),
    base: LOCAL_BASE_ENV,
    passEnv: options.passEnv ?? [],
  };
  const workspaces = options.workspaces ?? createHostWorkspaces();
  const starter =
    options.starter ??
    createProcessStarter({
      ...(options.spawnerAfter === undefined ? {} : { spawnerAfter: options.spawnerAfter }),
      ...(options.native === undefined ? {} : { native: options.native }),
      onSpawnerLost: (reason) => process.emitWarning(`${reason}; processes are now started directly`),
    });

  async function start(spec: TaskSpec, onLog: (line: LogLine) => void): Promise<TaskHandle> {
    const component = `${spec.component.name}@${spec.component.version}`;
    const argv = resolveArgv(spec.component);
    const cwd = spec.workspace.hostDir;
    if (cwd === undefined)
      throw new ExecutorError(`cannot start component ${component}: its workspace has no host folder`);

    const env = componentEnv(spec, envPolicy);
    if (options.engineId !== undefined) {
      const mark = { engineId: options.engineId, engineProcess, runId: spec.runId, taskRunId: spec.taskRunId };
      env[PROCESS_MARK_ENV] = formatMark(mark);
    }
    let endpointUrl: string | undefined;
    const endpoint = spec.component.endpoint;
    if (endpoint !== undefined) {
      const port = await freeLoopbackPort();
      env['CO_ENDPOINT_PORT'] = String(port);
      endpointUrl = `http://127.0.0.1:${port}${endpoint.path.startsWith('/') ? '' : '/'}${endpoint.path}`;
    }

    const oversized = oversizedVariable(env);
    if (oversized !== undefined)
      throw new ExecutorError(
        `cannot start component ${component}: variable ${oversized.name} is ${oversized.bytes} bytes, over the system's limit of ${MAX_ARG_STRLEN} bytes per variable (Linux MAX_ARG_STRLEN, E2BIG); pass large values in with: (read from CO_DATA_URL) or as files in the workspace`,
      );

    let child: SpawnedProcess;
    try {
      child = starter.start(argv.file, argv.args, cwd, env);
    } catch (error) {
      // Direct spawn throws some errors (E2BIG) at once instead of emitting them.
      throw new ExecutorError(
        `cannot start component ${component}: ${explain(argv.file, error as NodeJS.ErrnoException)}`,
        {
          cause: error,
        },
      );
    }
    try {
      await spawned(child, argv.file, component);
    } catch (error) {
      // A missing workspace fails the spawn as a missing command would (ENOENT): tell which.
      // Checked only then, to spare the common path a stat per task.
      await assertDirectory(cwd, component);
      throw error;
    }

    const task = new LocalTask(child, {
      onLog,
      killGraceMs,
      facts: { pid: String(child.pid), command: argv.file },
      ...(endpointUrl === undefined ? {} : { endpointUrl }),
    });
    tasks.set(task.ref, task);
    // Forget it once it ended and its group is confirmed gone (destroy also reaps the group).
    void task
      .wait()
      .then(() => task.destroy())
      .then(() => tasks.delete(task.ref));
    return task;
  }

  return {
    name: 'local',
    start,
    async destroy(ref) {
      // Only a ref we started, or an orphan list() found by its mark, is ever signalled: an
      // unknown pid may belong to anyone.
      const orphan = orphans.get(ref);
      if (orphan !== undefined) {
        await killOrphanGroup(orphan, killGraceMs);
        orphans.delete(ref);
        return;
      }
      await tasks.get(ref)?.destroy();
    },
    async list(): Promise<RunningRef[]> {
      if (options.engineId === undefined) return [];
      const found = await findOrphanGroups(options.engineId, options.engineProcessAlive);
      return found.map((group) => {
        const ref = String(group.pgid);
        orphans.set(ref, group);
        return { ref, runId: group.mark.runId, taskRunId: group.mark.taskRunId, running: true };
      });
    },
    async attach() {
      return undefined;
    },
    prepareRun: (scope) => workspaces.prepare(scope.runId, scope.copyFrom),
    releaseRun: (runId, { keep }) => workspaces.release(runId, keep),
    async listRuns() {
      return [];
    },
    callbackBaseUrl(loopbackUrl) {
      return loopbackUrl;
    },
    async close() {
      // The spawner only; components are stopped through their handles.
      await starter.close();
    },
  };
}

/** Resolves when `child` is running; rejects with an ExecutorError naming the command and why. */
function spawned(child: SpawnedProcess, file: string, component: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onSpawn = (): void => {
      child.off('error', onError);
      // Later 'error' events (a failed signal) must not crash the engine; the handle reports the exit.
      child.on('error', () => undefined);
      resolve();
    };
    const onError = (error: NodeJS.ErrnoException): void => {
      child.off('spawn', onSpawn);
      reject(new ExecutorError(`cannot start component ${component}: ${explain(file, error)}`, { cause: error }));
    };
    child.once('spawn', onSpawn);
    child.once('error', onError);
  });
}

/** Linux refuses exec when one `NAME=value` string (with its NUL) is longer than this (MAX_ARG_STRLEN). */
const MAX_ARG_STRLEN = 131_072;

/** The first variable whose `NAME=value` string exec would refuse, with its size in bytes (with the NUL). */
function oversizedVariable(env: Record<string, string>): { name: string; bytes: number } | undefined {
  for (const name of Object.keys(env)) {
    const value = env[name]!;
    // a UTF-16 unit is at most 3 bytes of UTF-8: most variables are measured without encoding
    if ((name.length + value.length) * 3 + 2 <= MAX_ARG_STRLEN) continue;
    const bytes = Buffer.byteLength(name) + 1 + Buffer.byteLength(value) + 1;
    if (bytes > MAX_ARG_STRLEN) return { name, bytes };
  }
  return undefined;
}

function explain(file: string, error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return file.includes('/')
        ? `command '${file}' does not exist (ENOENT)`
        : `command '${file}' was not found on PATH (ENOENT)`;
    case 'EACCES':
      return `command '${file}' is not executable (EACCES: permission denied); check its mode (chmod +x)`;
    case 'E2BIG':
      // The contract's own variables are bounded (CO_INPUT_LIMITS); what is left is the env: of the component and action.
      return `its environment is too large for the system (E2BIG: one variable over 128 KiB, or all over the system's limit); pass large values in with: (read from CO_DATA_URL) or as files in the workspace`;
    default:
      return `command '${file}' failed to start: ${error.message}`;
  }
}

async function assertDirectory(dir: string, component: string): Promise<void> {
  let isDirectory = false;
  try {
    isDirectory = (await stat(dir)).isDirectory();
  } catch (error) {
    throw new ExecutorError(`cannot start component ${component}: workspace ${dir} is not accessible`, {
      cause: error,
    });
  }
  if (!isDirectory) throw new ExecutorError(`cannot start component ${component}: workspace ${dir} is not a directory`);
}
