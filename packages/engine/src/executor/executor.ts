import type { ResolvedComponent } from '../plan/types.js';

/** One line a component wrote. `ts` is epoch ms when the executor read it. */
export interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
  readonly ts: number;
}

/** How a component's process, container or pod ended. */
export interface ExitInfo {
  /** exit code, or null when killed by a signal */
  readonly exitCode: number | null;
  readonly signal?: string;
  /** the runtime killed it for memory */
  readonly oomKilled?: boolean;
  /** set when the executor, not the component, ended it (`timeout`, `cancelled`, `lost`) */
  readonly reason?: string;
  /**
   * set when the platform failed the component rather than the component itself (its image
   * could not be pulled, its pod was evicted or deleted by someone else): the task run ends
   * `errored` with this reason, whatever the component reported
   */
  readonly error?: string;
}

/** Everything an executor needs to start one task run. Built by the engine; never mutated. */
export interface TaskSpec {
  readonly runId: string;
  readonly taskRunId: string;
  readonly attempt: number;
  readonly workflow: string;
  readonly stage: string;
  readonly action: string;
  readonly component: ResolvedComponent;
  /**
   * The full process environment of the contract (CO_DATA, callback URLs with the task token,
   * CO_INPUT_*, context), the component's env and the action's env, already merged. The
   * executor adds nothing but what it must (for example CO_ENDPOINT_PORT when it picks a port).
   */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Names and globs (`AWS_*`) of the engine's own environment that the workflow and the action
   * let through (their `passEnv`), besides the executor's base and configured `passEnv`.
   * Executors build the final environment with `componentEnv` (shared/component-env.ts) and pass
   * nothing else of the engine's. Absent: none.
   */
  readonly passEnv?: readonly string[];
  /** the run's workspace, as this executor's `prepareRun` returned it for the run */
  readonly workspace: RunWorkspace;
  /** per-attempt timeout; the engine enforces it too, the executor may use it for its own limits */
  readonly timeoutMs: number;
  /**
   * Where the executor reports its own steps of `start` (image pull, container create and start,
   * pod scheduling) to the run's trace; absent when the engine traces nothing. Use `executorStep`.
   */
  readonly trace?: ExecutorTrace;
}

/** The run's trace as an executor sees it: each step a child span of the attempt's start. */
export interface ExecutorTrace {
  /** run `step` as a span named `name`, ended when it settles; resolves or rejects as `step` does */
  step<T>(name: string, step: () => Promise<T>): Promise<T>;
}

/** `step` as the traced step `name` of `spec` (just `step` when the engine traces nothing). */
export function executorStep<T>(spec: TaskSpec, name: string, step: () => Promise<T>): Promise<T> {
  return spec.trace === undefined ? step() : spec.trace.step(name, step);
}

/** The run a `prepareRun` call prepares for. */
export interface RunScope {
  readonly runId: string;
  readonly workflow: string;
  /**
   * how many actions of the run's plan run on this executor: with one, nothing is shared
   * between task runs and an executor may give it a cheaper, task-local workspace (`emptyDir`)
   */
  readonly actions: number;
  /**
   * The id of an ended run whose kept workspace (`releaseRun(id, { keep: true })`) this run
   * starts from: a rerun reusing the outputs of actions that made files. When the run's
   * workspace is first made on this executor, it is filled with a copy of that run's workspace
   * on this executor; the earlier run's workspace is left as it was. Absent: an empty workspace.
   * See the contract (7) in `Executor`.
   */
  readonly copyFrom?: string;
  /**
   * some action of the run on this executor declares `cache.paths`: files are copied into and
   * out of the workspace between task runs (`copyPaths`), so it must outlive them (no `emptyDir`)
   */
  readonly cachedPaths?: boolean;
}

/**
 * A run's workspace on one executor, shared by every task run of the run on that executor.
 * Made by `Executor.prepareRun`; the engine passes it back in each `TaskSpec` unchanged.
 */
export interface RunWorkspace {
  /** where components see it (CO_WORKSPACE): a host path for local, a path in the container or pod */
  readonly mountPath: string;
  /** the folder on the engine's host, when there is one (local; docker on a local runtime) */
  readonly hostDir?: string;
  /**
   * what the executor created for the run (a PersistentVolumeClaim's name), opaque to the
   * engine; absent when the workspace needs nothing of its own (an `emptyDir` per task run)
   */
  readonly ref?: string;
  /**
   * set by `prepareRun` when it made the workspace from a copy (`RunScope.copyFrom`): the run
   * it was copied from. Absent: the workspace was made empty, or it already existed.
   */
  readonly copiedFrom?: string;
}

/** One copy of `Executor.copyPaths` (point 10 of its contract). */
export interface WorkspaceCopy {
  readonly runId: string;
  readonly workspace: RunWorkspace;
  /** where the files go: into the run's workspace from `dir`, or from it into `dir` (host) */
  readonly into: 'workspace' | 'host';
  /** a folder of the engine's host */
  readonly dir: string;
  /** relative to the workspace and to `dir` (checked at load to stay inside) */
  readonly paths: readonly string[];
}

/** Run-scoped resources an executor still holds, found by `listRuns()` (for recovery). */
export interface RunResources {
  readonly runId: string;
  /** released with `keep`: the workspace was kept on purpose; recovery leaves it alone */
  readonly kept: boolean;
}

/** A started component. Obtained from `Executor.start` or `Executor.attach`. */
export interface TaskHandle {
  /** executor-specific id (pid, container id, pod name), recorded on the task run */
  readonly ref: string;
  /** extra facts recorded on the task run (image digest, node, warnings) */
  readonly facts: Readonly<Record<string, string>>;
  /**
   * Where the engine POSTs the event data for a component with an `endpoint`, reachable from
   * the engine (absent when the component declares none).
   */
  readonly endpointUrl?: string;
  /**
   * Resolves `endpointUrl` once the component can be reached, when that is known only later
   * (a pod gets its address when it runs). Absent: `endpointUrl` is final.
   */
  endpoint?(): Promise<string | undefined>;
  /** Resolves once when the component has ended, however it ended. Never rejects. */
  wait(): Promise<ExitInfo>;
  /**
   * Stop it: a polite signal (SIGTERM), then after `graceMs` a hard kill of everything it
   * started (the whole process group, the container). Resolves when it is gone.
   * Safe to call repeatedly and after it has ended.
   */
  kill(reason: string, graceMs?: number): Promise<void>;
}

/** A component the executor still knows about, found by `list()` (for recovery after a restart). */
export interface RunningRef {
  readonly ref: string;
  readonly runId: string;
  readonly taskRunId: string;
  readonly running: boolean;
}

/**
 * The one interface every executor implements. Its contract:
 *
 * 1. `start(spec, onLog)` creates and starts the component with `spec.env`, in the run's
 *    workspace, and resolves with a handle once the process/container/pod exists. It rejects
 *    with an ExecutorError (the task run becomes `errored`) when it cannot: image missing,
 *    command not found, runtime unreachable. `onLog` is called once per line of stdout and
 *    stderr, in order per stream, from the moment the component starts until `wait()` resolves;
 *    a line is a complete line without its newline (a last unterminated line is flushed at exit).
 * 2. `handle.wait()` resolves exactly once with how it ended; the engine always calls it.
 * 3. `handle.kill()` may be called at any time, concurrently with `wait()`, repeatedly.
 * 4. `destroy(ref)` removes whatever is left (container, pod, temp files). It is safe to repeat,
 *    safe after a failed start, and safe for a ref that no longer exists.
 * 5. `list()` returns what this executor started and that still exists (running or not), so
 *    that the engine can reconcile after a restart; `attach(ref, onLog, sinceMs)` re-acquires a
 *    handle, delivering the lines written from `sinceMs` (epoch ms, at the runtime's resolution;
 *    default: from now). Executors whose components cannot be re-acquired (local) return
 *    undefined from `attach`; the local executor's `list()` reports only what dead engine
 *    processes left, so that `destroy` removes it before the action is retried. `destroy`
 *    resolves once the component is gone, and rejects when it could not make sure of that.
 * 6. Many `start` calls may run concurrently. `close()` releases the executor's own resources
 *    (clients, sockets); it does not kill components.
 *
 * Run-scoped resources (the workspace, and whatever else the task runs of a run share):
 * 7. `prepareRun(scope)` is called before the first `start` of a run on this executor and
 *    resolves with the run's workspace, which every `TaskSpec` of the run then carries. It is
 *    idempotent: a run resumed after a restart, or several concurrent first attempts, call it
 *    again and get the same workspace with its content. It rejects with an ExecutorError when
 *    the workspace cannot be made (the attempt becomes `errored`).
 *    With `scope.copyFrom`, a workspace made by this call starts as a copy of that run's kept
 *    workspace on this executor (and says so in `copiedFrom`); one that already exists is
 *    returned as it is (a resumed run keeps what its actions wrote). The copy is all or
 *    nothing: a crash or failure mid-copy leaves no workspace, so the next call copies again.
 *    When the earlier run has no workspace on this executor (it never ran an action there), the
 *    workspace is made empty; the engine checks in the store, before it passes `copyFrom`, that
 *    the earlier run's workspace was kept and has not expired. A copy that fails rejects with an
 *    ExecutorError naming both runs.
 * 8. `releaseRun(runId, { keep })` is called once the run has ended (before its end is
 *    recorded, so that a crash in between leaves a run that recovery resumes and releases
 *    again), after every task run's `destroy`. It removes what `prepareRun` made; with `keep`
 *    it keeps the workspace (and marks it kept, where it can) and releases the rest. It is safe
 *    to repeat, safe for a run that was never prepared, and safe after `prepareRun` failed;
 *    `releaseRun(id, { keep: false })` later removes a kept workspace.
 * 9. `listRuns()` returns the runs for which this executor holds run-scoped resources that
 *    outlive the engine (a PVC), so that recovery releases those of ended runs that are not
 *    kept. Host folders are not listed: they are released before the run's end is recorded.
 * 10. `copyPaths` (optional) copies files between a run's workspace that is not a host folder
 *    (`hostDir` absent: a claim) and a folder of the engine's host, for the action cache's
 *    `cache.paths`: `'workspace'` copies `paths` of `dir` into the workspace (files replaced,
 *    folders merged), `'host'` copies those of `paths` that exist in the workspace into `dir`.
 *    It rejects with an ExecutorError when it cannot (then the action is run, not restored).
 *    Executors that cannot copy leave it out: such actions are not cached there.
 */
export interface Executor {
  readonly name: string;
  /**
   * Its components run on when the engine process stops, and another engine process can
   * re-acquire them (`list`, `attach`: containers, pods): a replica that lets go of a run leaves
   * them to the run's next holder. Absent or false (local processes): that replica stops them
   * before it lets go, so that two attempts of one action never run at once.
   */
  readonly survivesEngine?: boolean;
  start(spec: TaskSpec, onLog: (line: LogLine) => void): Promise<TaskHandle>;
  destroy(ref: string): Promise<void>;
  list(): Promise<RunningRef[]>;
  attach(ref: string, onLog: (line: LogLine) => void, sinceMs?: number): Promise<TaskHandle | undefined>;
  prepareRun(scope: RunScope): Promise<RunWorkspace>;
  releaseRun(runId: string, options: { readonly keep: boolean }): Promise<void>;
  listRuns(): Promise<RunResources[]>;
  copyPaths?(copy: WorkspaceCopy): Promise<void>;
  /**
   * The base URL at which components started by this executor reach the engine's callback
   * server, given the server's loopback URL and the configured advertised URL.
   */
  callbackBaseUrl(loopbackUrl: string, advertisedUrl?: string): string;
  close(): Promise<void>;
}
