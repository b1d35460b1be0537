import { newId } from '../../src/domain/ids.js';
import type { NewOutboxEvent, NewRun, NewTaskRun, Store } from '../../src/store/types.js';

/** A new run of `workflow` with distinctive JSON in every JSON column. */
export function newRun(workflow = 'build', overrides: Partial<NewRun> = {}): NewRun {
  return {
    id: newId(),
    workflow,
    workflowVersion: '3',
    inputs: { repo: 'https://example.com/r.git', depth: 1, tags: ['a', 'b'], nested: { ok: true } },
    plan: { stages: [{ name: 'build', actions: [] }], version: 1 },
    trigger: { kind: 'webhook', by: 'github', details: { delivery: 'd-1' } },
    chainId: newId(),
    createdAt: 1_700_000_000_000,
    ...overrides,
  };
}

/** A new task run of `runId`. */
export function newTaskRun(runId: string, overrides: Partial<NewTaskRun> = {}): NewTaskRun {
  return {
    id: newId(),
    runId,
    stage: 'build',
    action: 'compile',
    attempt: 1,
    component: 'compiler@1.0.0',
    executor: 'local',
    tokenHash: null,
    eventData: { target: 'x86_64', flags: ['-O2'] },
    createdAt: 1_700_000_000_100,
    ...overrides,
  };
}

/** An outbox event, optionally of a run. */
export function newEvent(runId: string | null, type = 'dev.cdevents.pipelinerun.queued.0.3.0'): NewOutboxEvent {
  const id = newId();
  return { id, runId, type, payload: { context: { id, type }, subject: { id: runId } }, createdAt: 1_700_000_000_200 };
}

/** A run with one task run, for the areas that hang off a task run. */
export async function seedTaskRun(store: Store): Promise<string> {
  const run = await store.runs.create(newRun());
  const task = await store.taskRuns.create(newTaskRun(run.id));
  return task.id;
}
