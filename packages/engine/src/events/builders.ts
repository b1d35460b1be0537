import { newId } from '../domain/ids.js';
import { PilotageError } from '../domain/errors.js';
import type { Outcome } from '../domain/states.js';
import type { JsonObject } from '../domain/vocabulary.js';
import type { NewOutboxEvent } from '../store/types.js';
import { endLink, parentLink, pathLink, triggerLink } from './links.js';
import {
  CDEVENTS_SPEC_VERSION,
  RUN_EVENT_TYPES,
  type CDEvent,
  type EmbeddedLink,
  type PipelineRunContent,
  type PipelineRunFinishedContent,
  type TaskRunContent,
  type TaskRunFinishedContent,
} from './types.js';
import { assertValidRunEvent } from './run-event-check.js';

/**
 * Builders of the five run and task-run CDEvents. Pure apart from the fresh ULID `context.id`
 * (pass `id` to fix it). Every event is validated against its official schema before it is
 * returned: an invalid one throws an `INTERNAL` `PilotageError`, because it is a bug, never
 * something to send. Masking of secrets happens before: texts given here are sent as they are.
 */

/** What every run event needs. */
export interface RunEventInput {
  /** the engine's advertised base URL, absolute (`https://ci.example.com`); a trailing `/` is ignored */
  readonly engineUrl: string;
  /** workflow name */
  readonly workflow: string;
  readonly runId: string;
  /** the run's chain id (`RunRecord.chainId`), shared by all its events */
  readonly chainId: string;
  /** when the transition happened, epoch ms */
  readonly timestamp: number;
  /** `context.id`; default a new ULID */
  readonly id?: string;
  /** `context.id` of the event this one follows in the run's chain: adds a PATH link */
  readonly previousEventId?: string;
  /** extra links, appended after the ones derived from the fields above */
  readonly links?: readonly EmbeddedLink[];
}

/** `pipelinerun.queued`. */
export interface PipelineRunQueuedInput extends RunEventInput {
  /** `context.id` of the CDEvent that triggered the run: adds a RELATION TRIGGER link */
  readonly triggerEventId?: string;
}

/** `pipelinerun.finished`. */
export interface PipelineRunFinishedInput extends RunEventInput {
  /** `outcomeOf(run.state)` */
  readonly outcome: Outcome;
  /** why it ended so (failed action, timeout, cancel request); expected unless `success` */
  readonly errors?: string;
}

/** `taskrun.started`. */
export interface TaskRunEventInput extends RunEventInput {
  readonly taskRunId: string;
  /** the action's name */
  readonly taskName: string;
  /** `context.id` of the run's `pipelinerun.started` event: adds a RELATION PARENT link */
  readonly parentEventId?: string;
}

/** `taskrun.finished`. */
export interface TaskRunFinishedInput extends TaskRunEventInput {
  /** `outcomeOf(taskRun.state)` */
  readonly outcome: Outcome;
  readonly errors?: string;
}

/** The last engine URL `baseUrl` parsed, and its base (every event of an engine has the same). */
let lastBase: { readonly engineUrl: string; readonly base: string } | undefined;

function baseUrl(engineUrl: string): string {
  if (lastBase?.engineUrl === engineUrl) return lastBase.base;
  let parsed: URL;
  try {
    parsed = new URL(engineUrl);
  } catch (cause) {
    throw new PilotageError('CONFIG', `the engine URL must be absolute (http://host:port), got "${engineUrl}"`, {
      cause,
    });
  }
  const base = parsed.href.replace(/\/+$/, '');
  lastBase = { engineUrl, base };
  return base;
}

/** `context.source` of every event of a workflow's runs: `<engineUrl>/workflows/<workflow>`. */
export function workflowSource(engineUrl: string, workflow: string): string {
  return `${baseUrl(engineUrl)}/workflows/${encodeURIComponent(workflow)}`;
}

/** Absolute URL of a run: `<engineUrl>/runs/<runId>`. */
export function runUri(engineUrl: string, runId: string): string {
  return `${baseUrl(engineUrl)}/runs/${encodeURIComponent(runId)}`;
}

/** Absolute URL of a task run: `<engineUrl>/runs/<runId>/tasks/<taskRunId>`. */
export function taskRunUri(engineUrl: string, runId: string, taskRunId: string): string {
  return `${runUri(engineUrl, runId)}/tasks/${encodeURIComponent(taskRunId)}`;
}

function build<C extends object>(
  type: string,
  input: RunEventInput,
  subjectId: string,
  content: C,
  derivedLinks: readonly EmbeddedLink[],
): CDEvent<C> {
  const source = workflowSource(input.engineUrl, input.workflow);
  const links = [...derivedLinks, ...(input.links ?? [])];
  const event: CDEvent<C> = {
    context: {
      specversion: CDEVENTS_SPEC_VERSION,
      id: input.id ?? newId(),
      source,
      type,
      timestamp: new Date(input.timestamp).toISOString(),
      chainId: input.chainId,
      ...(links.length > 0 ? { links } : {}),
    },
    subject: { id: subjectId, source, content },
  };
  assertValidRunEvent(event);
  return event;
}

function withErrors<T extends object>(content: T, errors: string | undefined): T & { errors?: string } {
  return errors === undefined || errors === '' ? content : { ...content, errors };
}

function pathLinks(input: RunEventInput): EmbeddedLink[] {
  return input.previousEventId === undefined ? [] : [pathLink(input.previousEventId)];
}

/** `dev.cdevents.pipelinerun.queued.0.3.0`: the run was recorded. */
export function buildPipelineRunQueued(input: PipelineRunQueuedInput): CDEvent<PipelineRunContent> {
  const links = pathLinks(input);
  if (input.triggerEventId !== undefined) links.unshift(triggerLink(input.triggerEventId));
  return build(RUN_EVENT_TYPES.pipelineRunQueued, input, input.runId, runContent(input), links);
}

/** `dev.cdevents.pipelinerun.started.0.3.0`: the scheduler started walking the stages. */
export function buildPipelineRunStarted(input: RunEventInput): CDEvent<PipelineRunContent> {
  return build(RUN_EVENT_TYPES.pipelineRunStarted, input, input.runId, runContent(input), pathLinks(input));
}

/** `dev.cdevents.pipelinerun.finished.0.3.0`: the run ended; the last event of its chain (END link). */
export function buildPipelineRunFinished(input: PipelineRunFinishedInput): CDEvent<PipelineRunFinishedContent> {
  const content = withErrors({ ...runContent(input), outcome: input.outcome }, input.errors);
  const links = [...pathLinks(input), endLink(input.previousEventId)];
  return build(RUN_EVENT_TYPES.pipelineRunFinished, input, input.runId, content, links);
}

/** `dev.cdevents.taskrun.started.0.3.0`: a task run's process, container or pod started. */
export function buildTaskRunStarted(input: TaskRunEventInput): CDEvent<TaskRunContent> {
  return build(RUN_EVENT_TYPES.taskRunStarted, input, input.taskRunId, taskContent(input), taskLinks(input));
}

/** `dev.cdevents.taskrun.finished.0.3.0`: a task run ended. */
export function buildTaskRunFinished(input: TaskRunFinishedInput): CDEvent<TaskRunFinishedContent> {
  const content = withErrors({ ...taskContent(input), outcome: input.outcome }, input.errors);
  return build(RUN_EVENT_TYPES.taskRunFinished, input, input.taskRunId, content, taskLinks(input));
}

function runContent(input: RunEventInput): PipelineRunContent {
  return { pipelineName: input.workflow, uri: runUri(input.engineUrl, input.runId) };
}

function taskContent(input: TaskRunEventInput): TaskRunContent {
  return {
    taskName: input.taskName,
    uri: taskRunUri(input.engineUrl, input.runId, input.taskRunId),
    pipelineRun: { id: input.runId, source: workflowSource(input.engineUrl, input.workflow) },
  };
}

function taskLinks(input: TaskRunEventInput): EmbeddedLink[] {
  const links = pathLinks(input);
  if (input.parentEventId !== undefined) {
    links.push(parentLink(input.parentEventId));
  }
  return links;
}

/**
 * The outbox row for an event the builders above made: `id` = `context.id`, `createdAt` = the
 * event's timestamp, and the event itself as payload (what is stored is exactly what will be
 * sent). It is plain JSON already (built from strings and arrays of them, and checked against its
 * schema), so it is not copied: a copy through JSON text cost ~3% of a replica's CPU per run
 * (bench/README.md, "Session 11"). Copy an event that holds anything else before.
 */
export function toOutboxEvent(cdevent: CDEvent<object>, runId: string | null): NewOutboxEvent {
  return {
    id: cdevent.context.id,
    runId,
    type: cdevent.context.type,
    payload: cdevent as unknown as JsonObject,
    createdAt: Date.parse(cdevent.context.timestamp),
  };
}
