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
  /** absolute host path of the run's workspace, shared by all actions of the run */
  readonly workspaceDir: string;
  /** the run's workspace as seen by the component (the local executor uses the host path) */
  readonly workspaceMount: string;
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
 */
export interface Executor {
  readonly name: string;
  start(spec: TaskSpec, onLog: (line: LogLine) => void): Promise<TaskHandle>;
  destroy(ref: string): Promise<void>;
  list(): Promise<RunningRef[]>;
  attach(ref: string, onLog: (line: LogLine) => void, sinceMs?: number): Promise<TaskHandle | undefined>;
  /**
   * The base URL at which components started by this executor reach the engine's callback
   * server, given the server's loopback URL and the configured advertised URL.
   */
  callbackBaseUrl(loopbackUrl: string, advertisedUrl?: string): string;
  close(): Promise<void>;
}
