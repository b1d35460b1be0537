import { ConflictError, NotFoundError, UnavailableError } from '../domain/errors.js';
import type { TraceContext } from '../domain/trace-context.js';
import type { JsonValue } from '../domain/vocabulary.js';
import type { Engine } from '../engine/engine.js';
import type { Plan } from '../plan/types.js';
import type { RunRecord, Store, TaskRunRecord, TriggerInfo, WorkflowRecord } from '../store/types.js';

/** What starts a run of a stored workflow. */
export interface StartWorkflowRun {
  readonly workflow: string;
  /** a stored version; default the latest */
  readonly version?: number;
  /** the event data, validated against the workflow's `inputs` */
  readonly data: JsonValue;
  readonly trigger: TriggerInfo;
  /** CDEvents chain to join (a triggering CDEvent's) */
  readonly chainId?: string;
  /** results of an earlier run to reuse, by action (reruns; see engine/reuse.ts) */
  readonly reuse?: ReadonlyMap<string, TaskRunRecord>;
  /** an ended run whose kept workspace the run starts from (reruns; see rerun-workspace.ts) */
  readonly workspaceFrom?: string;
  /** the trace of the request that started it (its `traceparent`), which the run's spans join */
  readonly traceParent?: TraceContext;
  /** the workflow's record as the caller has just read it (not read again); default: read here */
  readonly record?: WorkflowRecord;
}

/**
 * Starts runs of workflows stored on the server. Every trigger (API, CLI, webhook, cron,
 * CDEvent, rerun) goes through it, so they all check the same things in the same order.
 */
export interface WorkflowRunStarter {
  /**
   * Start a run of `workflow` at `version` (default latest). Throws NotFoundError (no such
   * workflow or version), ConflictError (workflow disabled), UnavailableError (server shutting
   * down) or ValidationError naming the field (data does not match `inputs`).
   */
  start(input: StartWorkflowRun): Promise<RunRecord>;
}

/** Dependencies of the starter. `secretsFor` gives the secrets a run of `workflow` may read. */
export interface WorkflowRunStarterDeps {
  readonly store: Store;
  readonly engine: Engine;
  readonly accepting: () => boolean;
  readonly secretsFor?: (workflow: string) => Promise<Readonly<Record<string, string>>>;
}

/** The starter over the store's workflows and the engine. */
export function createWorkflowRunStarter(deps: WorkflowRunStarterDeps): WorkflowRunStarter {
  return {
    async start(input) {
      if (!deps.accepting()) throw new UnavailableError('the server is shutting down and starts no new runs');
      const workflow = input.record ?? (await deps.store.workflows.get(input.workflow));
      if (workflow === undefined) {
        throw new NotFoundError(`workflow ${input.workflow} not found; apply it first (pilotage workflow apply FILE)`);
      }
      if (!workflow.enabled) {
        throw new ConflictError(`workflow ${input.workflow} is disabled; enable it to start runs`);
      }
      const number = input.version ?? workflow.latestVersion;
      const version = await deps.store.workflows.getVersion(input.workflow, number);
      if (version === undefined) throw new NotFoundError(`workflow ${input.workflow} has no version ${number}`);
      const secrets = deps.secretsFor ? await deps.secretsFor(input.workflow) : {};
      return deps.engine.startRun(version.plan as unknown as Plan, input.data, {
        trigger: input.trigger,
        workflowVersion: String(version.version),
        secrets,
        ...(input.chainId === undefined ? {} : { chainId: input.chainId }),
        ...(input.reuse === undefined ? {} : { reuse: input.reuse }),
        ...(input.workspaceFrom === undefined ? {} : { workspaceFrom: input.workspaceFrom }),
        ...(input.traceParent === undefined ? {} : { traceParent: input.traceParent }),
      });
    },
  };
}
