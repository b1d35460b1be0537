import type { JsonObject } from '../domain/vocabulary.js';
import type { Outcome } from '../domain/states.js';

/**
 * CDEvents vocabulary (spec v0.5.1), written once. Three version numbers are in play and must
 * not be mixed up: `context.specversion` names the CDEvents spec release (`0.5.1`); the last
 * three numbers of `context.type` name the event's own schema version (`0.3.0` for the core run
 * events); the CloudEvents envelope around it has its own `specversion` (`1.0`).
 */

/** The CDEvents spec release we emit and validate against. */
export const CDEVENTS_SPEC_VERSION = '0.5.1';

/** The CloudEvents spec version of the HTTP envelope. */
export const CLOUDEVENTS_SPEC_VERSION = '1.0';

/** The five event types Pilotage emits for runs and task runs (taken from the schemas' `type.enum`). */
export const RUN_EVENT_TYPES = {
  pipelineRunQueued: 'dev.cdevents.pipelinerun.queued.0.3.0',
  pipelineRunStarted: 'dev.cdevents.pipelinerun.started.0.3.0',
  pipelineRunFinished: 'dev.cdevents.pipelinerun.finished.0.3.0',
  taskRunStarted: 'dev.cdevents.taskrun.started.0.3.0',
  taskRunFinished: 'dev.cdevents.taskrun.finished.0.3.0',
} as const;

/** One of the five run and task-run event types. */
export type RunEventType = (typeof RUN_EVENT_TYPES)[keyof typeof RUN_EVENT_TYPES];

/** Prefix of core event types. */
export const CORE_TYPE_PREFIX = 'dev.cdevents.';
/** Prefix of custom event types (`dev.cdeventsx.<tool>-<subject>.<predicate>.<M.m.p>`). */
export const CUSTOM_TYPE_PREFIX = 'dev.cdeventsx.';

/**
 * A link embedded in `context.links`. `START` links exist only as stand-alone payloads, so they
 * cannot be embedded. `contextId` is always the `context.id` of another event.
 */
export type EmbeddedLink =
  | {
      readonly linkType: 'PATH';
      /** the event this one follows in the chain */
      readonly from: { readonly contextId: string };
      readonly tags?: Readonly<Record<string, string>>;
    }
  | {
      readonly linkType: 'END';
      readonly from?: { readonly contextId: string };
      readonly tags?: Readonly<Record<string, string>>;
    }
  | {
      readonly linkType: 'RELATION';
      /** free text; we use `TRIGGER` (what started a run) and `PARENT` (a task run's run) */
      readonly linkKind: string;
      readonly target: { readonly contextId: string };
      readonly tags?: Readonly<Record<string, string>>;
    };

/** The `context` of a CDEvent (identical in all 45 core schemas; `additionalProperties: false`). */
export interface CdeventContext {
  /** CDEvents spec release, `0.5.1` */
  readonly specversion: string;
  /** unique per `source`; kept unchanged on delivery retries */
  readonly id: string;
  /** URI reference of the producer */
  readonly source: string;
  /** `dev.cdevents.<subject>.<predicate>.<M.m.p>` */
  readonly type: string;
  /** RFC 3339 with a zone: when the occurrence happened, not when it was sent */
  readonly timestamp: string;
  /** an extra schema the event also conforms to (we never emit it: consumers must be able to fetch it) */
  readonly schemaUri?: string;
  /** groups every event of one causal chain: a run, its task runs and its triggering event */
  readonly chainId?: string;
  readonly links?: readonly EmbeddedLink[];
}

/** The `subject` of a CDEvent. `content` keys depend on the type. */
export interface CdeventSubject<C extends object = JsonObject> {
  /** the run, task run, artifact… the event is about; the same across its events */
  readonly id: string;
  /** where the subject lives, when not at `context.source` */
  readonly source?: string;
  readonly content: C;
}

/** A whole CDEvent document: what goes into the CloudEvent's `data`. */
export interface CDEvent<C extends object = JsonObject> {
  readonly context: CdeventContext;
  readonly subject: CdeventSubject<C>;
  /** tool-specific data; an object, or base64 text with `customDataContentType` */
  readonly customData?: JsonObject | string;
  readonly customDataContentType?: string;
}

/** Content of `pipelinerun.queued|started` (started requires both keys). */
export interface PipelineRunContent {
  readonly pipelineName: string;
  /** absolute URL of the run in the engine's API */
  readonly uri: string;
}

/** Content of `pipelinerun.finished`. */
export interface PipelineRunFinishedContent extends PipelineRunContent {
  readonly outcome: Outcome;
  /** human-readable reason; present for anything but `success` */
  readonly errors?: string;
}

/** Content of `taskrun.started`. */
export interface TaskRunContent {
  readonly taskName: string;
  /** absolute URL of the task run in the engine's API */
  readonly uri: string;
  /** the run this task run belongs to: `id` = the pipelinerun events' `subject.id` */
  readonly pipelineRun: { readonly id: string; readonly source?: string };
}

/** Content of `taskrun.finished`. The schema allows any string as outcome; we send only these four. */
export interface TaskRunFinishedContent extends TaskRunContent {
  readonly outcome: Outcome;
  readonly errors?: string;
}

/** One schema violation: a JSON Pointer into the event and what is wrong there. */
export interface CdeventIssue {
  /** JSON Pointer, `/subject/content/uri`; `` for the whole document */
  readonly path: string;
  readonly message: string;
}

/** Result of validating a CDEvent. */
export type CdeventValidation =
  { readonly ok: true; readonly type: string } | { readonly ok: false; readonly errors: readonly CdeventIssue[] };
