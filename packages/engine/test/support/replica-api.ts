import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { eventually } from './harness.js';
import type { ServeProcess } from './serve-process.js';

/** What the replica tests read of a run's detail (`GET /v1/runs/:id`); each test adds what it checks. */
export interface RunDetailBase {
  run: { id: string; state: string; owner: string | null; reason: string | null };
}

/** The JSON answer of a request that must have succeeded (its status and text otherwise). */
export async function json<T>(response: Response): Promise<T> {
  const text = await response.text();
  assert.ok(response.ok, `${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** The replica id `server` runs under. */
export async function replicaId(server: ServeProcess): Promise<string> {
  const replicas = await json<{ id: string; self: boolean }[]>(await server.api('GET', '/v1/replicas'));
  const self = replicas.find((r) => r.self);
  assert.ok(self !== undefined, 'a replica lists itself');
  return self.id;
}

/** A run's detail, asked of `server`. */
export function runDetail<D extends RunDetailBase>(server: ServeProcess, runId: string): Promise<D> {
  return server.api('GET', `/v1/runs/${runId}`).then((r) => json<D>(r));
}

/** The run's detail once `done` says so (asked of `server`, for up to a minute). */
export function runWhen<D extends RunDetailBase>(
  server: ServeProcess,
  runId: string,
  done: (d: D) => boolean,
  what: string,
): Promise<D> {
  return eventually(
    async () => {
      const d = await runDetail<D>(server, runId);
      return done(d) ? d : undefined;
    },
    60_000,
    what,
  );
}

/** Whether the run has ended. */
export const runEnded = (d: RunDetailBase): boolean =>
  ['succeeded', 'failed', 'errored', 'cancelled'].includes(d.run.state);

/** Resolves once `path` exists (up to a minute): the components here signal through files. */
export async function waitFile(path: string): Promise<void> {
  await eventually(async () => (existsSync(path) ? true : undefined), 60_000, `${path} to appear`);
}
