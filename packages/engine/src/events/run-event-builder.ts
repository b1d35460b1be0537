import type { RunEventBuilder } from '../engine/ports.js';
import type { JsonObject } from '../domain/vocabulary.js';
import type { NewOutboxEvent, OutboxRecord, RunRecord, TaskRunRecord } from '../store/types.js';
import {
  buildPipelineRunFinished,
  buildPipelineRunQueued,
  buildPipelineRunStarted,
  buildTaskRunFinished,
  buildTaskRunStarted,
  toOutboxEvent,
} from './builders.js';
import { completeComponentEvent } from './component-event.js';
import { parentLink } from './links.js';

/** Event ids a run's later events link to, and the engine URL its events are built on. */
interface RunChain {
  last?: string;
  started?: string;
  readonly taskStarted: Map<string, string>;
  /** the URL of the run's first event when another process wrote it (kept for the whole run) */
  engineUrl?: string;
}

/**
 * The engine's `RunEventBuilder` over the CDEvents builders: one validated event per transition,
 * linked into its run's chain (PATH from the previous event, PARENT from a task run to its
 * run's `started` event). `engineUrl` is the advertised URL that `source` and `uri` are built on;
 * a run taken up from another process (`resume`) keeps the URL of its first event instead, so a
 * run's `source` and URIs never change mid-run.
 */
export function createRunEventBuilder(engineUrl: string): RunEventBuilder {
  const chains = new Map<string, RunChain>();
  const chainOf = (runId: string): RunChain => {
    let chain = chains.get(runId);
    if (!chain) {
      chain = { taskStarted: new Map() };
      chains.set(runId, chain);
    }
    return chain;
  };
  const base = (run: RunRecord, at: number) => ({
    engineUrl: chains.get(run.id)?.engineUrl ?? engineUrl,
    workflow: run.workflow,
    runId: run.id,
    chainId: run.chainId,
    timestamp: at,
  });
  const emit = (runId: string, event: { context: { id: string } }): NewOutboxEvent[] => {
    chainOf(runId).last = event.context.id;
    return [toOutboxEvent(event as never, runId)];
  };
  const previous = (runId: string) => {
    const last = chains.get(runId)?.last;
    return last ? { previousEventId: last } : {};
  };
  return {
    runQueued(run) {
      const triggerEventId = run.trigger.kind === 'cdevent' ? run.trigger.by : undefined;
      // a child run (`uses:`) links to the `taskrun.started` of the action that called it
      const callerEventId = run.parent
        ? chains.get(run.parent.runId)?.taskStarted.get(run.parent.taskRunId)
        : undefined;
      return emit(
        run.id,
        buildPipelineRunQueued({
          ...base(run, run.createdAt),
          ...(triggerEventId ? { triggerEventId } : {}),
          ...(callerEventId ? { links: [parentLink(callerEventId)] } : {}),
        }),
      );
    },
    runStarted(run) {
      const event = buildPipelineRunStarted({ ...base(run, run.startedAt ?? Date.now()), ...previous(run.id) });
      chainOf(run.id).started = event.context.id;
      return emit(run.id, event);
    },
    runFinished(run, outcome, errors) {
      const event = buildPipelineRunFinished({
        ...base(run, run.endedAt ?? Date.now()),
        ...previous(run.id),
        outcome,
        ...(errors ? { errors } : {}),
      });
      chains.delete(run.id);
      return [toOutboxEvent(event as never, run.id)];
    },
    taskStarted(run, task) {
      const chain = chainOf(run.id);
      const event = buildTaskRunStarted({
        ...base(run, task.startedAt ?? Date.now()),
        taskRunId: task.id,
        taskName: task.action,
        ...(chain.started ? { parentEventId: chain.started } : {}),
      });
      chain.taskStarted.set(task.id, event.context.id);
      return [toOutboxEvent(event as never, run.id)];
    },
    taskFinished(run, task: TaskRunRecord, outcome, errors) {
      const chain = chainOf(run.id);
      const startedId = chain.taskStarted.get(task.id);
      chain.taskStarted.delete(task.id);
      const event = buildTaskRunFinished({
        ...base(run, task.endedAt ?? Date.now()),
        taskRunId: task.id,
        taskName: task.action,
        outcome,
        ...(errors ? { errors } : {}),
        ...(startedId ? { previousEventId: startedId } : chain.started ? { parentEventId: chain.started } : {}),
      });
      return [toOutboxEvent(event as never, run.id)];
    },
    resume(run, written) {
      chains.set(run.id, chainFrom(run, written));
    },
    componentEvent(run, task, event: JsonObject, at, written) {
      // the holder's chain, or one rebuilt from the store (a replica relaying a callback), never kept
      const chain = written === undefined ? chains.get(run.id) : chainFrom(run, written);
      const taskRunEventId = chain?.taskStarted.get(task.id);
      const completed = completeComponentEvent(event, {
        engineUrl: chain?.engineUrl ?? engineUrl,
        workflow: run.workflow,
        runId: run.id,
        taskRunId: task.id,
        chainId: run.chainId,
        at,
        ...(taskRunEventId ? { taskRunEventId } : {}),
      });
      if (!completed.ok) return completed.errors.map((e) => `${e.path || '/'}: ${e.message}`).join('; ');
      // the component's own JSON, detached from the request it came in
      return toOutboxEvent(JSON.parse(JSON.stringify(completed.event)) as never, run.id);
    },
  };
}

/** The kind of a run event type (`pipelinerun.started`…), or undefined for any other event. */
function runEventKind(type: string): string | undefined {
  return /^dev\.cdevents\.((?:pipelinerun|taskrun)\.\w+)\./.exec(type)?.[1];
}

/**
 * Rebuild a run's chain from the events already written for it (in run order): the links its
 * later events need, and the engine URL its first event was built on.
 */
function chainFrom(run: RunRecord, written: readonly OutboxRecord[]): RunChain {
  const chain: RunChain = { taskStarted: new Map() };
  for (const event of written) {
    const payload = event.payload as { context?: { id?: unknown; source?: unknown }; subject?: { id?: unknown } };
    const id = payload.context?.id;
    const subject = payload.subject?.id;
    if (typeof id !== 'string') continue;
    const kind = runEventKind(event.type);
    if (kind === 'pipelinerun.queued' || kind === 'pipelinerun.started') {
      chain.last = id;
      if (kind === 'pipelinerun.started') chain.started = id;
      const source = payload.context?.source;
      if (chain.engineUrl === undefined && typeof source === 'string')
        chain.engineUrl = engineUrlOf(source, run.workflow);
    } else if (kind === 'taskrun.started' && typeof subject === 'string') {
      chain.taskStarted.set(subject, id);
    } else if (kind === 'taskrun.finished' && typeof subject === 'string') {
      chain.taskStarted.delete(subject);
    }
  }
  return chain;
}

/** The engine URL a `source` (`workflowSource(engineUrl, workflow)`) was built on, if it was. */
function engineUrlOf(source: string, workflow: string): string | undefined {
  const suffix = `/workflows/${encodeURIComponent(workflow)}`;
  return source.endsWith(suffix) ? source.slice(0, -suffix.length) : undefined;
}
