import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compileWorkflow, createFileResolver } from '../src/plan-files/load.js';
import type { Plan } from '../src/plan/types.js';
import type { Store } from '../src/store/types.js';

/**
 * A workflow whose one action holds the whole contract around a wait: it reports start, touches
 * `<dir>/started`, waits until `<dir>/release` exists, then reports a status, a result and stop.
 * Shutdown tests decide when (or whether) the running task may finish.
 */
export interface WaitingWorkflow {
  readonly name: string;
  readonly text: string;
  readonly plan: Plan;
  /** resolves once the component runs (it touched `started`) */
  started(timeoutMs?: number): Promise<void>;
  /** let the component finish */
  release(): Promise<void>;
}

/** Write and compile the waiting workflow `name` into `dir` (which also holds the marker files). */
export async function waitingWorkflow(dir: string, name = 'waits'): Promise<WaitingWorkflow> {
  const started = join(dir, `${name}.started`);
  const release = join(dir, `${name}.release`);
  const text = `apiVersion: pilotage.dev/v1
kind: Workflow
name: ${name}
stages:
  - name: s
    actions:
      - name: hold
        timeout: 5m
        run: |
          post() { curl -fsS -o /dev/null -H 'Content-Type: application/json' -d "$2" "$1"; }
          post "$CO_COMPONENT_START" '{}'
          post "$CO_TASK_START" '{}'
          touch '${started}'
          while [ ! -e '${release}' ]; do sleep 0.05; done
          post "$CO_TASK_STATUS" '{"message":"released","progress":0.9}'
          post "$CO_TASK_RESULT" '{"status":"success","output":{"released":true}}'
          post "$CO_COMPONENT_STOP" '{}'
`;
  const file = join(dir, `${name}.workflow.yaml`);
  await writeFile(file, text);
  const plan = await compileWorkflow(text, file, createFileResolver());
  return {
    name,
    text,
    plan,
    async started(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          await access(started);
          return;
        } catch {
          if (Date.now() > deadline) throw new Error(`the component of ${name} did not start within ${timeoutMs}ms`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
    release: () => writeFile(release, ''),
  };
}

/** Store `workflow` as version 1 of a server-managed workflow (what `workflow apply` does). */
export async function storeWorkflow(store: Store, workflow: WaitingWorkflow): Promise<void> {
  await store.workflows.apply({
    name: workflow.name,
    source: workflow.text,
    digest: `test-${workflow.name}`,
    planJson: JSON.stringify(workflow.plan),
    at: Date.now(),
    by: 'test',
  });
}
