import assert from 'node:assert/strict';
import type { ApiHarness } from './support/api-harness.js';

/** Apply workflow YAML through the API (PUT /v1/workflows/:name); returns the version. */
export async function applyWorkflow(h: ApiHarness, name: string, yaml: string): Promise<number> {
  const text = `apiVersion: pilotage.dev/v1\nkind: Workflow\nname: ${name}\nexecutor: local\n${yaml}`;
  const answer = await h.call('PUT', `/v1/workflows/${name}`, {
    payload: text,
    headers: { 'content-type': 'application/yaml' },
  });
  assert.ok(answer.status === 201 || answer.status === 200, JSON.stringify(answer.body));
  return answer.body.version as number;
}

/**
 * A workflow for `applyWorkflow` whose one action (stage `wait`, action `block`) runs until the
 * file its `gate` input names exists: a run held running for as long as a test needs.
 */
export const GATED_WORKFLOW = `inputs: { type: object, properties: { gate: { type: string } } }
stages:
  - name: wait
    actions:
      - name: block
        with: "\${{ inputs }}"
        run: while [ ! -f "$CO_INPUT_GATE" ]; do sleep 0.05; done
`;

/** Poll the API until `check` passes on GET /v1/runs/:id (detail), at most `timeoutMs`. */
export async function waitForRun(
  h: ApiHarness,
  id: string,
  check: (detail: any) => boolean,
  timeoutMs = 20_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await h.call('GET', `/v1/runs/${id}`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    if (check(answer.body)) return answer.body;
    if (Date.now() > deadline)
      assert.fail(`run ${id} never reached the expected state: ${JSON.stringify(answer.body.run)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Wait until the run has ended; returns its detail. */
export function waitForEnd(h: ApiHarness, id: string, timeoutMs?: number): Promise<any> {
  return waitForRun(h, id, (d) => !['queued', 'running'].includes(d.run.state), timeoutMs);
}

/** Shell-quote a path for inline `run:` scripts. */
export function q(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
