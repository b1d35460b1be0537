import type { JsonSchema, JsonValue } from '../domain/vocabulary.js';
import type { RetryPolicy } from '../domain/retry.js';

/**
 * The compiled, validated, executor-neutral plan. The compiler (`compileWorkflow`) is the only
 * producer; the engine and executors are the only readers. Everything here is already checked:
 * every reference resolves, every expression parsed and type-checked, every duration in ms.
 */

/** A string field of `with:`/`env:` that holds `${{ }}` expressions, compiled. */
export interface Expression {
  /** the CEL source, without `${{ }}` */
  readonly source: string;
  /** where it was written: `file:line:column` (for runtime error messages) */
  readonly at: string;
}

/**
 * A value of `with:` or `env:`: plain JSON, with strings that may hold expressions.
 * Rendered at run time by `renderTemplate`. A string that is one whole `${{ expr }}` keeps the
 * expression's JSON type; a string with text around expressions is interpolated as a string.
 */
export type Template =
  | { readonly kind: 'literal'; readonly value: JsonValue }
  | { readonly kind: 'expression'; readonly expr: Expression }
  | {
      readonly kind: 'interpolation';
      /** alternating text and expressions, in order */
      readonly parts: readonly (string | Expression)[];
    }
  | { readonly kind: 'array'; readonly items: readonly Template[] }
  | { readonly kind: 'object'; readonly entries: Readonly<Record<string, Template>> };

/** Where the engine POSTs the event data after COMPONENT_START. */
export interface EndpointSpec {
  readonly port: number;
  readonly path: string;
}

/** A volume declared by a component. `initialData` maps relative file names to contents. */
export interface VolumeSpec {
  readonly name: string;
  readonly mountPath: string;
  readonly readOnly?: boolean;
  readonly initialData?: Readonly<Record<string, string>>;
}

/** Requested resources, in Kubernetes notation (`500m` cpu, `256Mi` memory). */
export interface ResourceSpec {
  readonly cpu?: string;
  readonly memory?: string;
}

/** A JSON object of a Kubernetes field, already checked against its shape (kubernetes-schema.ts). */
type KubeObject = Readonly<Record<string, unknown>>;

/**
 * Pod fields a component sets for the Kubernetes executor: the allow-list of
 * `kubernetesJsonSchema` (kubernetes-schema.ts), each value checked at load against its exact
 * Kubernetes 1.20 shape, copied onto the pod as is (executor/kubernetes/pod.ts).
 */
export interface KubernetesSpec {
  readonly serviceAccountName?: string;
  readonly automountServiceAccountToken?: boolean;
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations?: readonly KubeObject[];
  readonly affinity?: KubeObject;
  readonly topologySpreadConstraints?: readonly KubeObject[];
  /** Secret names */
  readonly imagePullSecrets?: readonly string[];
  readonly priorityClassName?: string;
  readonly runtimeClassName?: string;
  readonly schedulerName?: string;
  /** the pod's security context */
  readonly securityContext?: KubeObject;
  /** the component container's security context */
  readonly containerSecurityContext?: KubeObject;
  readonly hostAliases?: readonly KubeObject[];
  readonly dnsPolicy?: string;
  readonly dnsConfig?: KubeObject;
  readonly enableServiceLinks?: boolean;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Image pull policy for container executors. */
export type PullPolicy = 'always' | 'if-missing' | 'never';

/**
 * A component with everything resolved: the registry entry, the component.yaml, or an
 * inline `run:` action turned into an anonymous component.
 */
export interface ResolvedComponent {
  /** `git-clone`; inline actions get `inline:<action>` */
  readonly name: string;
  /** `1.2.0`; inline actions get `0.0.0` */
  readonly version: string;
  /** what it does, from its component.yaml */
  readonly description?: string;
  /** container image, for container executors */
  readonly image?: string;
  readonly pullPolicy?: PullPolicy;
  /**
   * argv to run (local executor; entrypoint override for containers). For an inline `run:`
   * action it is `['sh', '-c', <script>]`.
   */
  readonly command?: readonly string[];
  /** extra arguments after `command` (container `cmd`) */
  readonly args?: readonly string[];
  /** absolute folder of the component.yaml: `./` in `command[0]` resolves here; `CO_COMPONENT_DIR` */
  readonly dir?: string;
  readonly workingDir?: string;
  readonly user?: string;
  /** must follow the full five-callback sequence */
  readonly strict: boolean;
  readonly endpoint?: EndpointSpec;
  /** JSON Schema of the event data */
  readonly inputs?: JsonSchema;
  /** JSON Schema of the outputs reported in TASK_RESULT */
  readonly outputs?: JsonSchema;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly resources?: ResourceSpec;
  readonly volumes: readonly VolumeSpec[];
  readonly kubernetes?: KubernetesSpec;
}

/** One action of a stage, compiled. */
export interface PlanAction {
  readonly name: string;
  readonly stage: string;
  readonly component: ResolvedComponent;
  /** the event data, as a template over `inputs`, `actions`, `run`, `env`, `secrets` */
  readonly with: Template;
  /** condition; absent means always */
  readonly if?: Expression;
  /** effective timeout per attempt: the action's, else the component's, else the default */
  readonly timeoutMs: number;
  readonly retries: RetryPolicy;
  /** extra env for the process, templated */
  readonly env: Readonly<Record<string, Template>>;
  /**
   * variables of the engine's environment this action's component inherits (names and `*`
   * globs): the workflow's `passEnv` and the action's, in that order. Absent: none (plans stored
   * before it existed have none either).
   */
  readonly passEnv?: readonly string[];
  /** executor override (`local`, `docker`, `kubernetes`); absent means the run's */
  readonly executor?: string;
  /** names of earlier actions this one reads (from its expressions) */
  readonly needs: readonly string[];
  /**
   * `if:` calls a status function (`always()`, `failure()`…): it is evaluated even after an
   * earlier stage failed, instead of the action being skipped (absent: false)
   */
  readonly statusCheck?: true;
  /** fan-out: one task run per combination (see `PlanMatrix`) */
  readonly matrix?: PlanMatrix;
  /** a reusable workflow this action runs as a child run (its `component` is `workflow:<name>`) */
  readonly uses?: PlanUses;
  /** reuse the outputs and files of an earlier successful attempt with the same key */
  readonly cache?: PlanCache;
}

/** Most combinations one matrix may expand into (at load, or at run time for an expression). */
export const MATRIX_LIMIT = 256;

/**
 * A matrix on an action: the action runs once per combination, each a task run named
 * `name (v1, v2)` that reads its values as `matrix.<key>`; later actions read
 * `actions.<name>.outputs` as the list of the combinations' outputs, in combination order.
 */
export interface PlanMatrix {
  /** the combinations, in order, when the whole matrix was literal (expanded at load) */
  readonly combinations?: readonly Readonly<Record<string, JsonValue>>[];
  /**
   * otherwise the matrix as written (`{<axis>: list, include?, exclude?}`), some of it
   * expressions: rendered and expanded when the action's stage starts
   */
  readonly template?: Template;
  /** most combinations running at once (absent: only the run's limits) */
  readonly maxParallel?: number;
  /** a failed combination cancels the running ones of the same matrix */
  readonly failFast: boolean;
}

/** A call of a reusable workflow: its plan is `Plan.workflows[key]`. */
export interface PlanUses {
  /** what the action wrote (`deploy@3`, `./deploy.yaml`) */
  readonly ref: string;
  /** the key of the called plan in the root plan's `workflows` */
  readonly key: string;
}

/** The result cache of an action. */
export interface PlanCache {
  /**
   * the key, a template rendered before the action would start; absent: derived from the
   * component, its rendered event data and env
   */
  readonly key?: Template;
  /** workspace paths (files or folders, relative) saved on success and restored on a hit */
  readonly paths: readonly string[];
}

/** A workflow-level concurrency group: at most one run of a group is running at a time. */
export interface PlanConcurrencyGroup {
  /** the group's name, a template over `inputs` and `run.workflow`, rendered when a run is created */
  readonly group: Template;
  /** a new run of the group cancels the running (and older queued) runs instead of waiting */
  readonly cancelInProgress: boolean;
}

/** One stage. `approval` stages hold no process: they wait for a decision. */
export interface PlanStage {
  readonly name: string;
  readonly type: 'actions' | 'approval';
  readonly actions: readonly PlanAction[];
  /** approval stages only: how long to wait, ms */
  readonly approvalTimeoutMs?: number;
}

/** A trigger, as written (the server acts on them). */
export type PlanTrigger =
  | { readonly kind: 'manual' }
  | {
      readonly kind: 'webhook';
      readonly provider: 'github' | 'gitlab' | 'generic';
      readonly events: readonly string[];
      /** maps the payload to inputs: input name → template over `payload`, `headers` */
      readonly inputs?: Readonly<Record<string, Template>>;
    }
  | { readonly kind: 'cdevent'; readonly type: string; readonly filter?: Expression }
  | { readonly kind: 'cron'; readonly schedule: string; readonly timezone?: string };

/** A compiled workflow. */
export interface Plan {
  readonly name: string;
  /** free-form version label of the workflow file, if given */
  readonly version?: string;
  /** absolute path of the workflow file, when compiled from a file */
  readonly file?: string;
  readonly description?: string;
  /** JSON Schema of the run's event data (defaults applied before the run starts) */
  readonly inputs?: JsonSchema;
  /** env for every action, templated */
  readonly env: Readonly<Record<string, Template>>;
  /** the workflow's `passEnv` as written (each action's `passEnv` already includes it) */
  readonly passEnv?: readonly string[];
  readonly stages: readonly PlanStage[];
  readonly triggers: readonly PlanTrigger[];
  /** cancel running siblings when one action fails */
  readonly failFast: boolean;
  /** whole-run timeout, ms (absent: none) */
  readonly timeoutMs?: number;
  /** most actions of this run running at once */
  readonly concurrency: number;
  /**
   * most runs of this workflow running at once in one engine; runs beyond it stay `queued` and
   * start in creation order when one ends (absent: no limit)
   */
  readonly maxRuns?: number;
  /** default executor for the run (absent: the engine's default) */
  readonly executor?: string;
  /**
   * stages that run after `stages` end, however they ended (success, failure, cancel, timeout);
   * their actions read every action of `stages` (absent: none)
   */
  readonly finally?: readonly PlanStage[];
  /**
   * most time the finally stages may take, ms. Absent: no limit of its own, except after a
   * cancel or a run timeout, when `PLAN_DEFAULTS.finallyGraceMs` applies
   */
  readonly finallyTimeoutMs?: number;
  /** the run's outputs, templates over every action's outputs, rendered when the run ends */
  readonly outputs?: Readonly<Record<string, Template>>;
  /** at most one running run per group (absent: no group) */
  readonly group?: PlanConcurrencyGroup;
  /**
   * the plans of the reusable workflows called by `uses:` here and in them, by `PlanUses.key`
   * (one flat map at the root: called plans carry none of their own)
   */
  readonly workflows?: Readonly<Record<string, Plan>>;
}

/** Defaults applied by the compiler where a file is silent. */
export const PLAN_DEFAULTS = {
  actionTimeoutMs: 60 * 60 * 1000,
  concurrency: 16,
  retryBackoffMs: 1000,
  retryFactor: 2,
  retryMaxBackoffMs: 60_000,
  approvalTimeoutMs: 24 * 60 * 60 * 1000,
  /** how long finally stages may run after a cancel or a run timeout */
  finallyGraceMs: 5 * 60 * 1000,
  /** deepest chain of reusable workflows (a workflow calling one calling one…) */
  maxCallDepth: 4,
  /** timeout of an action that calls a workflow without a run timeout of its own */
  callTimeoutMs: 24 * 60 * 60 * 1000,
} as const;

/** What expressions see at run time. */
export interface ExpressionContext {
  readonly inputs: Readonly<Record<string, JsonValue>>;
  /** outputs are an object, or for a matrix action the list of its combinations' outputs */
  readonly actions: Readonly<Record<string, { readonly outputs: JsonValue; readonly status: string }>>;
  readonly run: {
    readonly id: string;
    readonly number: number;
    readonly workflow: string;
    /** `running` until something failed; then what the run would end as (see `RunStatus`) */
    readonly status: RunStatus;
  };
  readonly env: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, string>>;
  /** the combination of a matrix action's task run */
  readonly matrix?: Readonly<Record<string, JsonValue>>;
}

/**
 * `run.status` as expressions see it: `running` while nothing failed; `failed`, `errored` or
 * `cancelled` as soon as the run is bound to end so; in finally stages `succeeded` when every
 * stage did. The status functions read it: `success()` (running or succeeded), `failure()`
 * (failed or errored), `cancelled()`, `always()`.
 */
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'errored' | 'cancelled';
