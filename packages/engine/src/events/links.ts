import type { EmbeddedLink } from './types.js';

/**
 * Embedded CDEvents links (`context.links`). Each points at another event by its `context.id`.
 * How Pilotage chains a run's events: the triggering event → (RELATION TRIGGER) → queued →
 * (PATH) → started → (PATH) → task-run events… → finished (PATH + END). Task-run events also
 * carry a RELATION PARENT link to the run's `pipelinerun.started` event.
 */

/** This event follows `contextId` in its chain. */
export function pathLink(contextId: string): EmbeddedLink {
  return { linkType: 'PATH', from: { contextId } };
}

/** This event ends its chain; `fromContextId` is the event it follows, when known. */
export function endLink(fromContextId?: string): EmbeddedLink {
  return fromContextId === undefined ? { linkType: 'END' } : { linkType: 'END', from: { contextId: fromContextId } };
}

/** `contextId` is related to this event as `kind` (`TRIGGER`, `PARENT`, `ARTIFACT`…). */
export function relationLink(kind: string, contextId: string): EmbeddedLink {
  return { linkType: 'RELATION', linkKind: kind, target: { contextId } };
}

/** The event with `contextId` triggered this run. */
export function triggerLink(contextId: string): EmbeddedLink {
  return relationLink('TRIGGER', contextId);
}

/** `contextId` is an event of the run (the parent) this task run belongs to. */
export function parentLink(contextId: string): EmbeddedLink {
  return relationLink('PARENT', contextId);
}
