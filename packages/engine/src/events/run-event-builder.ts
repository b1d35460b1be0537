import type { RunEventBuilder } from '../engine/ports.js';
import type { JsonObject } from '../domain/vocabulary.js';
import type { NewOutboxEvent, RunRecord, TaskRunRecord } from '../store/types.js';
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

/** Event ids a run's later events link to. */
interface RunChain {
  last?: string;
  started?: string;
  readonly taskStarted: Map<string, string>;
}

/**
 * The engine's `RunEventBuilder` over the CDEvents builders: one validated event per transition,
 * linked into its run's chain (PATH from the previous event, PARENT from a task run to its
 * run's `started` event). `engineUrl` is the advertised URL that `source` and `uri` are built on.
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
    engineUrl,
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
    componentEvent(run, task, event: JsonObject, at) {
      const taskRunEventId = chains.get(run.id)?.taskStarted.get(task.id);
      const completed = completeComponentEvent(event, {
        engineUrl,
        workflow: run.workflow,
        runId: run.id,
        taskRunId: task.id,
        chainId: run.chainId,
        at,
        ...(taskRunEventId ? { taskRunEventId } : {}),
      });
      if (!completed.ok) return completed.errors.map((e) => `${e.path || '/'}: ${e.message}`).join('; ');
      return toOutboxEvent(completed.event as never, run.id);
    },
  };
}
