import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually } from './support/harness.js';
import { json, replicaId, runDetail, runEnded, runWhen, waitFile, type RunDetailBase } from './support/replica-api.js';
import { replicaCluster, type ReplicaCluster } from './support/replica-cluster.js';
import type { ServeProcess } from './support/serve-process.js';

/**
 * Issue 11 with real processes: `pilotage serve` replicas on one real PostgreSQL, driven through
 * their APIs. Components are shell scripts writing a ledger in a shared folder and waiting for
 * release files, so each step is decided by the test, never by timing.
 */

function workflows(ctl: string): string[] {
  const hold = `apiVersion: pilotage.dev/v1
kind: Workflow
name: hold
stages:
  - name: s
    actions:
      - name: wait
        retries: { limit: 1, backoff: 100ms }
        run: |
          echo "start $CO_RUN_ID $CO_ATTEMPT" >> '${ctl}/ledger'
          touch '${ctl}/started-'"$CO_RUN_ID-$CO_ATTEMPT"
          while [ ! -e '${ctl}/release-'"$CO_RUN_ID" ]; do echo "alive $CO_RUN_ID $CO_ATTEMPT" >> '${ctl}/ledger'; sleep 0.05; done
          echo "end $CO_RUN_ID $CO_ATTEMPT" >> '${ctl}/ledger'
`;
  // every callback goes to the base URL the test writes once it knows which replica holds the run
  const relay = `apiVersion: pilotage.dev/v1
kind: Workflow
name: relay
stages:
  - name: s
    actions:
      - name: report
        run: |
          while [ ! -e '${ctl}/target-'"$CO_RUN_ID" ]; do sleep 0.05; done
          base=$(cat '${ctl}/target-'"$CO_RUN_ID")
          post() { wget -q -O- --post-data="$2" "$base/\${1#http://*/}" || exit 7; }
          post "$CO_COMPONENT_START" ''
          post "$CO_TASK_START" ''
          post "$CO_TASK_STATUS" '{"message":"half way","progress":0.5}'
          post "$CO_TASK_RESULT" '{"status":"success","output":{"via":"other replica"}}'
          post "$CO_COMPONENT_STOP" ''
`;
  const gate = `apiVersion: pilotage.dev/v1
kind: Workflow
name: gate
stages:
  - name: approve
    type: approval
  - name: after
    actions:
      - name: done
        run: echo "after gate $CO_RUN_ID" >> '${ctl}/ledger'
`;
  return [hold, relay, gate];
}

interface RunDetail extends RunDetailBase {
  actions: {
    name: string;
    attempts: {
      attempt: number;
      state: string;
      reason: string | null;
      output: Record<string, unknown>;
      steps: Record<string, number>;
      statuses: { message: string | null }[];
      startedAt: number | null;
      endedAt: number | null;
    }[];
  }[];
}

async function startRun(server: ServeProcess, workflow: string): Promise<string> {
  return (await json<{ id: string }>(await server.api('POST', `/v1/workflows/${workflow}/runs`, { data: {} }))).id;
}

const detail = (server: ServeProcess, runId: string): Promise<RunDetail> => runDetail<RunDetail>(server, runId);

/** The run's detail once `done` says so (asked of `server`). */
const until = (
  server: ServeProcess,
  runId: string,
  done: (d: RunDetail) => boolean,
  what: string,
): Promise<RunDetail> => runWhen<RunDetail>(server, runId, done, what);

const ended = runEnded;

/** Live processes whose environment holds every one of `vars`. */
async function processesWith(vars: string[]): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const environ = (await readFile(`/proc/${pid}/environ`, 'latin1')).split('\0');
      if (!vars.every((v) => environ.includes(v))) continue;
      const stat = await readFile(`/proc/${pid}/stat`, 'latin1');
      if (!/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))) found.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function ledger(ctl: string): Promise<string[]> {
  return (await readFile(join(ctl, 'ledger'), 'utf8')).trim().split('\n');
}

/** The replica among `servers` that holds `owner`, and one that does not. */
async function holderAndOther(
  servers: ServeProcess[],
  owner: string,
): Promise<{ holder: ServeProcess; other: ServeProcess }> {
  const ids = await Promise.all(servers.map(replicaId));
  const holder = servers[ids.indexOf(owner)];
  const other = servers.find((_, i) => ids[i] !== owner);
  assert.ok(holder !== undefined && other !== undefined, `owner ${owner} among ${ids.join(', ')}`);
  return { holder, other };
}

test('replicas on one PostgreSQL: joining, callbacks, cancel, approvals and live streams through any replica; kill -9 failover', async (t) => {
  const cluster: ReplicaCluster | undefined = await replicaCluster(t);
  if (cluster === undefined) return;
  const ctl = join(cluster.dir, 'ctl');
  await mkdir(ctl);
  const a = await cluster.start(0);
  for (const yaml of workflows(ctl)) await json(await a.api('POST', '/v1/workflows', yaml));

  await t.test('a second replica starting changes nothing of the runs the first carries', async () => {
    const runs = [await startRun(a, 'hold'), await startRun(a, 'hold'), await startRun(a, 'hold')];
    for (const id of runs) await waitFile(join(ctl, `started-${id}-1`));
    const first = await replicaId(a);
    for (const id of runs) assert.equal((await detail(a, id)).run.owner, first);
    const b = await cluster.start(1);
    const second = await replicaId(b);
    assert.notEqual(second, first);
    // many of b's claim and takeover rounds (250 ms heartbeats)
    await new Promise((resolve) => setTimeout(resolve, 2500));
    for (const id of runs) {
      const d = await detail(b, id);
      assert.equal(d.run.state, 'running');
      assert.equal(d.run.owner, first, 'still held by the first replica');
      assert.deepEqual(
        d.actions[0]!.attempts.map((x) => [x.attempt, x.state]),
        [[1, 'running']],
      );
    }
    for (const id of runs) await writeFile(join(ctl, `release-${id}`), '');
    for (const id of runs) {
      const d = await until(b, id, ended, `run ${id} to end`);
      assert.equal(d.run.state, 'succeeded', JSON.stringify(d));
      assert.equal(d.actions[0]!.attempts.length, 1);
    }
    const lines = await ledger(ctl);
    for (const id of runs) {
      assert.equal(lines.filter((l) => l === `start ${id} 1`).length, 1);
      assert.equal(lines.filter((l) => l.startsWith(`start ${id} 2`)).length, 0, 'never tried again');
    }
  });

  await t.test('callbacks sent to the replica that does not hold the run are applied', async () => {
    const servers = cluster.live();
    const runId = await startRun(servers[0]!, 'relay');
    const held = await until(servers[0]!, runId, (d) => d.run.owner !== null && d.run.state === 'running', 'a holder');
    const { other } = await holderAndOther(servers, held.run.owner!);
    // written whole, then renamed: the component waits for the name, and must never read it
    // created but still empty (it did once, under load: an empty URL, wget failed, exit 7)
    await writeFile(join(ctl, `target-${runId}.part`), other.url);
    await rename(join(ctl, `target-${runId}.part`), join(ctl, `target-${runId}`));
    const d = await until(other, runId, ended, 'the relay run to end');
    assert.equal(d.run.state, 'succeeded', JSON.stringify(d));
    const attempt = d.actions[0]!.attempts[0]!;
    assert.equal(attempt.output['via'], 'other replica');
    assert.deepEqual(Object.keys(attempt.steps).sort(), [
      'component-start',
      'component-stop',
      'task-result',
      'task-start',
      'task-status',
    ]);
    assert.deepEqual(
      attempt.statuses.map((s) => s.message),
      ['half way'],
    );
  });

  await t.test('approve and cancel through the replica that does not hold the run', async () => {
    const servers = cluster.live();
    const gated = await startRun(servers[1]!, 'gate');
    await eventually(
      async () => {
        const waiting = await json<{ runId: string }[]>(await servers[0]!.api('GET', '/v1/approvals'));
        return waiting.some((w) => w.runId === gated) ? true : undefined;
      },
      60_000,
      'the gate to wait',
    );
    const owner = (await detail(servers[0]!, gated)).run.owner!;
    const { other } = await holderAndOther(servers, owner);
    const decided = await json<{ decision: string; taskRun: { state: string } }>(
      await other.api('POST', `/v1/runs/${gated}/stages/approve/approve`, { comment: 'from the other replica' }),
    );
    assert.equal(decided.decision, 'approved');
    assert.equal(decided.taskRun.state, 'succeeded', 'the holder moved the stage on before the answer');
    assert.equal((await until(other, gated, ended, 'the gated run to end')).run.state, 'succeeded');

    const held = await startRun(servers[0]!, 'hold');
    await waitFile(join(ctl, `started-${held}-1`));
    const { other: notHolder } = await holderAndOther(servers, (await detail(servers[0]!, held)).run.owner!);
    const cancel = await notHolder.api('POST', `/v1/runs/${held}/cancel`);
    assert.equal(cancel.status, 202, await cancel.text());
    const d = await until(notHolder, held, ended, 'the cancelled run to end');
    assert.equal(d.run.state, 'cancelled');
    assert.equal(d.actions[0]!.attempts[0]!.state, 'cancelled');
    await eventually(
      async () => ((await processesWith([`CO_RUN_ID=${held}`])).length === 0 ? true : undefined),
      30_000,
      'the cancelled component to be gone',
    );
  });

  await t.test('a live stream on the replica that does not hold the run sees it end', async () => {
    const servers = cluster.live();
    const runId = await startRun(servers[0]!, 'hold');
    await waitFile(join(ctl, `started-${runId}-1`));
    const { other } = await holderAndOther(servers, (await detail(servers[0]!, runId)).run.owner!);
    const response = await fetch(`${other.url}/v1/runs/${runId}/events`, {
      headers: { authorization: `Bearer ${cluster.token()}` },
    });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    let text = '';
    const read = (async () => {
      const decoder = new TextDecoder();
      while (!text.includes('event: end')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    })();
    await eventually(async () => (text.includes('event: snapshot') ? true : undefined), 30_000, 'the snapshot');
    await writeFile(join(ctl, `release-${runId}`), '');
    await read;
    const end = text.slice(text.indexOf('event: end'));
    assert.match(end, /"state":"succeeded"/);
    assert.match(text, /event: task[\s\S]*"state":"succeeded"/, 'the task run’s end came through too');
  });

  await t.test('the runs stream (GET /v1/runs/events) of a replica shows the runs another one carries', async () => {
    const servers = cluster.live();
    const runId = await startRun(servers[0]!, 'hold');
    await waitFile(join(ctl, `started-${runId}-1`));
    const { other } = await holderAndOther(servers, (await detail(servers[0]!, runId)).run.owner!);
    const response = await fetch(`${other.url}/v1/runs/events`, {
      headers: { authorization: `Bearer ${cluster.token()}` },
    });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    let text = '';
    const endLine = new RegExp(`"id":"${runId}"[^\\n]*"state":"succeeded"`);
    const read = (async () => {
      const decoder = new TextDecoder();
      while (!endLine.test(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    })();
    await eventually(async () => (text.includes('retry:') ? true : undefined), 30_000, 'the stream to open');
    await writeFile(join(ctl, `release-${runId}`), '');
    await read;
    await reader.cancel();
    assert.match(text, endLine, 'the end of a run carried by the other replica came through');
  });

  await t.test(
    'kill -9 of the holder: another replica takes over, stops the orphan, retries; a gate keeps waiting',
    async () => {
      const servers = cluster.live();
      const runId = await startRun(servers[0]!, 'hold');
      const gated = await startRun(servers[1]!, 'gate');
      await waitFile(join(ctl, `started-${runId}-1`));
      const owner = (await detail(servers[0]!, runId)).run.owner!;
      const { holder, other } = await holderAndOther(servers, owner);
      const orphan = [`CO_RUN_ID=${runId}`, 'CO_ATTEMPT=1'];
      assert.ok((await processesWith(orphan)).length > 0);
      await cluster.kill(cluster.replica(0) === holder ? 0 : 1);

      // the survivor recognises the dead process at once, stops its component, and retries
      await waitFile(join(ctl, `started-${runId}-2`));
      assert.deepEqual(await processesWith(orphan), [], 'attempt 1 is gone before attempt 2 runs');
      await writeFile(join(ctl, `release-${runId}`), '');
      const d = await until(other, runId, ended, 'the run taken over to end');
      assert.equal(d.run.state, 'succeeded', JSON.stringify(d));
      assert.equal(d.run.owner, await replicaId(other));
      const attempts = d.actions[0]!.attempts;
      assert.deepEqual(
        attempts.map((x) => [x.attempt, x.state]),
        [
          [1, 'errored'],
          [2, 'succeeded'],
        ],
      );
      assert.match(attempts[0]!.reason ?? '', /^lost: /);
      assert.ok(attempts[0]!.endedAt! <= attempts[1]!.startedAt!, 'the lost attempt ended before the retry started');
      const lines = await ledger(ctl);
      const second = lines.indexOf(`start ${runId} 2`);
      assert.ok(second > 0);
      assert.deepEqual(
        lines.slice(second).filter((l) => l.endsWith(`${runId} 1`)),
        [],
        'attempt 1 wrote nothing once attempt 2 had started',
      );

      // the gate, wherever it was held, waits on a live replica and is decided there
      await eventually(
        async () => {
          const waiting = await json<{ runId: string }[]>(await other.api('GET', '/v1/approvals'));
          return waiting.some((w) => w.runId === gated) ? true : undefined;
        },
        60_000,
        'the gate to wait on the survivor',
      );
      await json(await other.api('POST', `/v1/runs/${gated}/stages/approve/approve`));
      assert.equal((await until(other, gated, ended, 'the gated run to end')).run.state, 'succeeded');
      const replicas = await json<{ id: string; alive: boolean; runs: number }[]>(
        await other.api('GET', '/v1/replicas'),
      );
      assert.ok(
        replicas.filter((r) => !r.alive).every((r) => r.runs === 0),
        `no run is held by a dead replica: ${JSON.stringify(replicas)}`,
      );
    },
  );
});

test('a replica with room carries the runs it receives itself; a full one leaves them to a replica with room', async (t) => {
  const cluster: ReplicaCluster | undefined = await replicaCluster(t);
  if (cluster === undefined) return;
  const ctl = join(cluster.dir, 'ctl');
  await mkdir(ctl);
  const small = await cluster.start(0, { PILOTAGE_MAX_ACTIVE_RUNS: '1' });
  const roomy = await cluster.start(1);
  for (const yaml of workflows(ctl)) await json(await small.api('POST', '/v1/workflows', yaml));
  const [smallId, roomyId] = [await replicaId(small), await replicaId(roomy)];

  const first = await startRun(small, 'hold');
  await waitFile(join(ctl, `started-${first}-1`));
  assert.equal((await detail(roomy, first)).run.owner, smallId, 'the receiving replica had room');
  // `small` is full now: its next run waits queued until a replica with room claims it
  const second = await startRun(small, 'hold');
  await waitFile(join(ctl, `started-${second}-1`));
  assert.equal((await detail(small, second)).run.owner, roomyId, 'claimed by the replica with room');
  const third = await startRun(roomy, 'hold');
  await waitFile(join(ctl, `started-${third}-1`));
  assert.equal((await detail(small, third)).run.owner, roomyId);

  for (const id of [first, second, third]) await writeFile(join(ctl, `release-${id}`), '');
  for (const id of [first, second, third]) {
    const d = await until(small, id, ended, `run ${id} to end`);
    assert.equal(d.run.state, 'succeeded', JSON.stringify(d));
    assert.equal(d.actions[0]!.attempts.length, 1, 'one attempt');
  }
});
