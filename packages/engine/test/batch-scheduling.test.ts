import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { nativeSpawnAddon } from '../src/executor/local/native-spawn.js';
import { replicaCluster } from './support/replica-cluster.js';
import { json, runEnded, runWhen, type RunDetailBase } from './support/replica-api.js';
import type { ServeProcess } from './support/serve-process.js';

/** Linux's SCHED_BATCH, as /proc/PID/stat's 41st field names it. */
const SCHED_BATCH = 3;
const SCHED_OTHER = 0;

/** The scheduling policy of every thread of process `pid` (/proc/PID/task/TID/stat, field 41). */
function threadPolicies(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // fields after "(comm)" start at the 3rd, so the 41st is index 38
    return Number(fields[38]);
  });
}

/** Run a one-action workflow on `server` whose component prints its own policy; that policy. */
async function componentPolicy(server: ServeProcess, name: string): Promise<number> {
  const workflow = `apiVersion: pilotage.dev/v1
kind: Workflow
name: ${name}
stages:
  - name: s
    actions:
      - name: policy
        run: awk '{ print "policy=" $41 }' /proc/$$/stat
`;
  await json(await server.api('POST', '/v1/workflows', workflow));
  const { id } = await json<{ id: string }>(await server.api('POST', `/v1/workflows/${name}/runs`, { data: {} }));
  const detail = await runWhen<RunDetailBase & { actions: { attempts: { id: string }[] }[] }>(
    server,
    id,
    runEnded,
    `${name} to end`,
  );
  assert.equal(detail.run.state, 'succeeded');
  const logs = await (
    await server.api('GET', `/v1/runs/${id}/tasks/${detail.actions[0]!.attempts[0]!.id}/logs`)
  ).text();
  const match = /policy=(\d+)/.exec(logs);
  assert.ok(match, logs);
  return Number(match[1]);
}

test('serve on PostgreSQL runs every thread, and its local components, under SCHED_BATCH; the setting turns it off', async (t) => {
  if (nativeSpawnAddon()?.batch === undefined) {
    assert.notEqual(process.env['CI'], 'true', 'the native addon (with batch) is built in CI');
    t.skip('no native addon with batch(): serve keeps the default policy');
    return;
  }
  const cluster = await replicaCluster(t);
  if (cluster === undefined) return;
  const batch = await cluster.start(0);
  assert.deepEqual(new Set(threadPolicies(batch.child.pid!)), new Set([SCHED_BATCH]), 'every thread of serve');
  assert.equal(await componentPolicy(batch, 'policy-a'), SCHED_BATCH, 'its component inherits it');
  // threads made after the start (libuv's pool, on first use) inherited it
  assert.deepEqual(new Set(threadPolicies(batch.child.pid!)), new Set([SCHED_BATCH]), 'after a run');

  const plain = await cluster.start(1, { PILOTAGE_BATCH_SCHEDULING: 'false' });
  assert.deepEqual(new Set(threadPolicies(plain.child.pid!)), new Set([SCHED_OTHER]), 'batchScheduling false');
  assert.equal(await componentPolicy(plain, 'policy-b'), SCHED_OTHER);
});
