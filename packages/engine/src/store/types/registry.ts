import type { JsonObject, JsonValue } from '../../domain/vocabulary.js';

/** The registry area: component versions and workflows with their applied versions. */

/** One registered, immutable version of a component. */
export interface ComponentVersionRecord {
  readonly name: string;
  /** semver, `1.2.0` */
  readonly version: string;
  /** the component definition as registered (component.yaml as JSON, validated) */
  readonly spec: JsonObject;
  /** the YAML or JSON text it was registered from */
  readonly source: string;
  readonly deprecated: boolean;
  readonly deprecationMessage: string | null;
  /**
   * absolute folder of the component's files on the server's machine, when the registration
   * gave one: the local executor resolves a `./` command there (container executors ignore it)
   */
  readonly dir?: string | null;
  readonly createdAt: number;
  /** the API token name (or `cli`) that registered it */
  readonly createdBy: string | null;
}

/** Which components `ComponentStore.list` returns. */
export interface ComponentFilter {
  /** substring of the name or description, case-insensitive */
  readonly query?: string;
  readonly includeDeprecated?: boolean;
}

/** The component registry: immutable versions of each component, some deprecated. */
export interface ComponentStore {
  /** Register a version; ConflictError when `name@version` exists (versions are immutable). */
  register(record: Omit<ComponentVersionRecord, 'deprecated' | 'deprecationMessage'>): Promise<void>;
  get(name: string, version: string): Promise<ComponentVersionRecord | undefined>;
  /** Every version of `name`, newest (highest semver) first. */
  versions(name: string): Promise<ComponentVersionRecord[]>;
  /** The newest version of each component matching `filter`, by name. */
  list(filter?: ComponentFilter): Promise<ComponentVersionRecord[]>;
  /** Mark a version deprecated (still resolvable by exact version); false when it does not exist. */
  deprecate(name: string, version: string, message: string | null): Promise<boolean>;
}

/** A workflow under management: its name, whether triggers start it, its newest version. */
export interface WorkflowRecord {
  readonly name: string;
  readonly enabled: boolean;
  /** 1, 2, 3… */
  readonly latestVersion: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** One applied, immutable version of a workflow. */
export interface WorkflowVersionRecord {
  readonly name: string;
  readonly version: number;
  /** the YAML (or JSON) text as applied */
  readonly source: string;
  /** sha256 of `source`, hex: applying the same text again makes no new version */
  readonly digest: string;
  /** the compiled plan (JSON), what runs of this version follow */
  readonly plan: JsonValue;
  readonly createdAt: number;
  readonly createdBy: string | null;
}

/** A workflow text to apply (`WorkflowStore.apply`). */
export interface NewWorkflowVersion {
  readonly name: string;
  /** the YAML (or JSON) text */
  readonly source: string;
  /** sha256 of `source`, hex */
  readonly digest: string;
  /** the compiled plan, as JSON text (a large plan is stored as the compiler wrote it, never re-encoded) */
  readonly planJson: string;
  /** epoch ms */
  readonly at: number;
  /** the API token name (or `cli`) that applies it */
  readonly by: string | null;
}

/** A version as `apply` answers it: everything but the plan (which may be large). */
export type AppliedWorkflowVersion = Omit<WorkflowVersionRecord, 'plan'>;

/** Workflows under management and their immutable applied versions. */
export interface WorkflowStore {
  /**
   * Store `source` as the next version of `name` (creating the workflow, enabled, if new), unless
   * its digest equals the latest version's: then nothing is written and `created` is false.
   */
  apply(input: NewWorkflowVersion): Promise<{ version: AppliedWorkflowVersion; created: boolean }>;
  get(name: string): Promise<WorkflowRecord | undefined>;
  list(): Promise<WorkflowRecord[]>;
  getVersion(name: string, version: number): Promise<WorkflowVersionRecord | undefined>;
  /** Every version of `name`, newest first. */
  versions(name: string): Promise<WorkflowVersionRecord[]>;
  /** false when the workflow does not exist */
  setEnabled(name: string, enabled: boolean, at: number): Promise<boolean>;
}
