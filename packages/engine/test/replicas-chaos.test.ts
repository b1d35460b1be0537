import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../src/store/open-store.js';
import type { Store, TaskRunRecord } from '../src/store/types.js';
import { startReceiver, type TestReceiver } from './events-test-server.js';
import { eventually } from './support/harness.js';
import { replicaCluster, type ReplicaCluster } from './support/replica-cluster.js';
import type { ServeProcess } from './support/serve-process.js';
import { json } from './support/replica-api.js';

/**
 * Issue 11's test with real processes: three `pilotage serve` replicas on one real PostgreSQL
 * carry 200 runs of a workflow with parallel actions while the test kills a random replica with
 * `kill -9` at random moments (at least five times) and starts it again. The components are
 * shell scripts that append to one ledger (start, alive…, effect, end; `term` when stopped), so
 * what really ran is checked, not what the store says; one action of each stage posts its
 * callbacks to a random replica (most often one that does not hold the run). CDEvents go to an
 * HTTP sink in the test. Besides, gated runs are approved and long runs cancelled through random
 * replicas, and live streams on random replicas follow runs to their end.
 *
 * The kills land where they hurt: each one (but the first) aims at a replica that is running an
 * attempt at that moment (a ledger `start` without its `end`), so takeover with a retry happens
 * and is asserted; the first kills the holder of an approval gate while it waits, which is then
 * approved through a replica that does not hold it. Finished runs are rerun through replicas that
 * did not hold them. While it goes on, a sampler checks that no run stays `running` with an owner
 * whose lease has expired for longer than the lease plus margins (takeover is bounded by room),
 * and that no replica ever holds more runs than `maxActiveRuns` allows.
 */

const RUNS = Number(process.env['CHAOS_RUNS'] ?? 200);
const GATED = 8;
const CANCELLED = 4;
const FOLLOWED = 3;
const KILLS = 6;
/** each replica's maxActiveRuns: below the runs in flight, so that replicas are full when one dies */
const MAX_ACTIVE_RUNS = 60;
const RERUNS = 3;
/**
 * The lease set below, plus a margin for the takeover on a loaded machine, plus room: takeover is
 * bounded by `maxActiveRuns` and the replicas are full when one dies, so its runs wait until the
 * killed replica is back (it restarts within 3 s, then starts up) or runs end elsewhere (3–10 s
 * seen at load 1–2, against ~0.3 s when a survivor took everything).
 */
const ORPHAN_LIMIT_MS = 10_000 + 10_000 + 10_000;
const SEED = Number(process.env['CHAOS_SEED'] ?? Date.now() % 1_000_000);

/** A small seeded generator (mulberry32), so a failing order of kills can be replayed (CHAOS_SEED). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A component script: the ledger lines of one attempt; with `relay`, its callbacks go to random replicas. */
function script(ctl: string, relay: boolean): string {
  const post = relay
    ? `post() {
  path=\${1#http://*/}
  i=0
  while [ $i -lt 100 ]; do
    base=$(shuf -n 1 '${ctl}/urls')
    if wget -q -O /dev/null --post-data="$2" "$base/$path"; then echo "posted $key $base" >> "$L"; return 0; fi
    i=$((i+1)); sleep 0.1
  done
  exit 9
}
post "$CO_COMPONENT_START" ''
post "$CO_TASK_START" ''
`
    : '';
  const result = relay
    ? `post "$CO_TASK_RESULT" '{"status":"success","output":{"posted":"yes"}}'\n`
    : `echo "[COUT] done=yes"\n`;
  return `key="$CO_RUN_ID $CO_ACTION $CO_ATTEMPT"
L='${ctl}/ledger'
trap 'echo "term $key" >> "$L"; exit 143' TERM
echo "start $key" >> "$L"
${post}n=0
while [ $n -lt 8 ]; do echo "alive $key" >> "$L"; sleep 0.1 & wait $!; n=$((n+1)); done
echo "effect $key" >> "$L"
${result}echo "end $key" >> "$L"
`;
}

function indent(text: string, spaces: number): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? line : `${' '.repeat(spaces)}${line}`))
    .join('\n');
}

function workflows(ctl: string): string[] {
  const action = (name: string, relay: boolean) =>
    `      - name: ${name}\n        retries: { limit: 10, backoff: 50ms }\n        run: |\n${indent(script(ctl, relay), 10)}`;
  const chaos = `apiVersion: pilotage.dev/v1
kind: Workflow
name: chaos
stages:
  - name: build
    actions:
${action('a', true)}${action('b', false)}${action('c', false)}  - name: ship
    actions:
${action('d', true)}`;
  const gated = `apiVersion: pilotage.dev/v1
kind: Workflow
name: gated
stages:
  - name: approve
    type: approval
  - name: after
    actions:
${action('e', false)}`;
  const victim = `apiVersion: pilotage.dev/v1
kind: Workflow
name: victim
stages:
  - name: s
    actions:
      - name: wait
        retries: { limit: 10, backoff: 50ms }
        run: |
          touch '${ctl}/victim-'"$CO_RUN_ID"
          while true; do sleep 0.1; done
`;
  return [chaos, gated, victim];
}

interface Line {
  readonly kind: string;
  readonly run: string;
  readonly action: string;
  readonly attempt: number;
  readonly rest: string;
}

function parseLedger(text: string): Line[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [kind, run, action, attempt, ...rest] = line.split(' ');
      return { kind: kind!, run: run!, action: action!, attempt: Number(attempt), rest: rest.join(' ') };
    });
}

/** Refuse to go on once the cluster is closed: a failed test's background loops end with it. */
function assertOpen(cluster: ReplicaCluster): void {
  if (cluster.closed()) throw new Error('the cluster is closed (the test ended)');
}

/** Call a random live replica (among those `among` accepts); when it dies under the call, another. */
async function anyReplica(
  cluster: ReplicaCluster,
  pick: () => number,
  call: (s: ServeProcess) => Promise<Response>,
  among: (s: ServeProcess) => boolean = () => true,
): Promise<Response> {
  for (let i = 0; ; i++) {
    assertOpen(cluster);
    const live = cluster.live().filter(among);
    const server = live[Math.floor(pick() * live.length)];
    if (server === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    try {
      const response = await call(server);
      if (response.status !== 503 || i > 50) return response;
    } catch (error) {
      if (i > 50) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The slot of the live replica holding run `runId` now, if a live one does. */
async function slotHolding(cluster: ReplicaCluster, store: Store, runId: string): Promise<number | undefined> {
  const owner = (await store.runs.get(runId))?.owner;
  if (owner === null || owner === undefined) return undefined;
  const url = (await store.replicas.list()).find((r) => r.id === owner && r.alive)?.url;
  const slot = [0, 1, 2].find((i) => url !== undefined && cluster.replica(i)?.url === url);
  return slot;
}

/**
 * The slot of a replica running an attempt at this moment: a ledger `start` line without its
 * `end` or `term`, of a run that replica holds. Undefined when none is found.
 */
async function slotMidAttempt(
  cluster: ReplicaCluster,
  store: Store,
  ledger: string,
  pick: () => number,
): Promise<number | undefined> {
  const open = new Map<string, string>();
  for (const line of parseLedger(await readFile(ledger, 'utf8'))) {
    const key = `${line.run} ${line.action} ${line.attempt}`;
    if (line.kind === 'start') open.set(key, line.run);
    if (line.kind === 'end' || line.kind === 'term') open.delete(key);
  }
  const runs = [...new Set(open.values())];
  for (let tries = 0; tries < 10 && runs.length > 0; tries++) {
    const [run] = runs.splice(Math.floor(pick() * runs.length), 1);
    const slot = await slotHolding(cluster, store, run!);
    if (slot !== undefined) return slot;
  }
  return undefined;
}

/**
 * Sample, until `stop()`, the runs `running` whose owner holds no live lease; resolves with the
 * longest time one stayed so, ms, those that stayed so over `limitMs`, how many samples were
 * taken, and the most unended runs one live replica held at once (`mostHeld`: takeover is bounded
 * by room, so at most `maxActiveRuns` plus the runs waiting at a gate). Time is summed sample by
 * sample, each step counting at most one second, so that a pause of the whole machine (the
 * sandbox's clock jumps) is not taken for a run left alone.
 */
function watchOwners(
  store: Store,
  limitMs: number,
): { stop(): Promise<{ longestMs: number; over: string[]; samples: number; mostHeld: number }> } {
  let stopped = false;
  let samples = 0;
  let mostHeld = 0;
  const since = new Map<string, number>();
  let longestMs = 0;
  const over = new Set<string>();
  const done = (async () => {
    let last = Date.now();
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const now = Date.now();
      const step = Math.min(now - last, 1000);
      last = now;
      try {
        const live = new Set((await store.replicas.list()).filter((r) => r.alive).map((r) => r.id));
        const unended = await store.runs.listByState(['queued', 'running']);
        const running = unended.filter((r) => r.state === 'running');
        const orphans = new Set(running.filter((r) => r.owner === null || !live.has(r.owner)).map((r) => r.id));
        const held = new Map<string, number>();
        for (const r of unended)
          if (r.owner !== null && live.has(r.owner)) held.set(r.owner, (held.get(r.owner) ?? 0) + 1);
        mostHeld = Math.max(mostHeld, ...held.values());
        for (const id of [...since.keys()]) if (!orphans.has(id)) since.delete(id);
        for (const id of orphans) {
          const alone = (since.get(id) ?? 0) + step;
          since.set(id, alone);
          longestMs = Math.max(longestMs, alone);
          if (alone > limitMs) over.add(id);
        }
        samples += 1;
      } catch {
        // the store under load: the next sample
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
      return { longestMs, over: [...over], samples, mostHeld };
    },
  };
}

/** Follow run `runId` live through random replicas (reconnecting when one dies) until its `end`; its final state. */
async function follow(
  cluster: ReplicaCluster,
  pick: () => number,
  runId: string,
): Promise<{ state: string; replicas: number }> {
  const used = new Set<string>();
  for (;;) {
    assertOpen(cluster);
    const live = cluster.live();
    const server = live[Math.floor(pick() * live.length)];
    if (server === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    used.add(server.url);
    try {
      const response = await fetch(`${server.url}/v1/runs/${runId}/events`, {
        headers: { authorization: `Bearer ${cluster.token()}` },
      });
      if (response.status !== 200 || response.body === null) continue;
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        const at = text.indexOf('event: end\ndata: ');
        const close = at < 0 ? -1 : text.indexOf('\n', at + 17);
        if (close > 0) {
          await reader.cancel().catch(() => undefined);
          const end = JSON.parse(text.slice(at + 17, close)) as { run: { state: string } };
          return { state: end.run.state, replicas: used.size };
        }
      }
    } catch {
      // the replica died under the stream: follow on another
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test(
  `${RUNS} runs on three replicas while replicas are killed with kill -9: every run succeeds, nothing runs twice at once`,
  { timeout: 15 * 60_000 },
  async (t) => {
    const receiver: TestReceiver = await startReceiver();
    t.after(() => receiver.close());
    const cluster = await replicaCluster(t, {
      PILOTAGE_EVENT_SINKS: receiver.url,
      PILOTAGE_MAX_PARALLEL: '24',
      PILOTAGE_MAX_ACTIVE_RUNS: String(MAX_ACTIVE_RUNS),
      // a lease long enough that a replica starved of CPU on a loaded machine keeps it (kills are
      // seen at once on this host); with 3 s, leases were lost and runs moved round and round
      PILOTAGE_HEARTBEAT: '500ms',
      PILOTAGE_LEASE_TTL: '10s',
    });
    if (cluster === undefined) return;
    t.diagnostic(`seed ${SEED} (replay with CHAOS_SEED=${SEED})`);
    const pick = random(SEED);
    const ctl = join(cluster.dir, 'ctl');
    await mkdir(ctl);
    await writeFile(join(ctl, 'ledger'), '');
    const writeUrls = () =>
      writeFile(
        join(ctl, 'urls'),
        `${cluster
          .live()
          .map((s) => s.url)
          .join('\n')}\n`,
      );
    for (let i = 0; i < 3; i++) await cluster.start(i);
    await writeUrls();
    for (const yaml of workflows(ctl)) await json(await cluster.api('POST', '/v1/workflows', yaml));
    const store: Store = await openStore({ url: cluster.db });
    t.after(() => store.close());

    // the runs, started through random replicas
    const start = async (workflow: string): Promise<string> =>
      (
        await json<{ id: string }>(
          await anyReplica(cluster, pick, (s) => s.api('POST', `/v1/workflows/${workflow}/runs`, { data: {} })),
        )
      ).id;
    // the gated runs first, so that their gates wait while the chaos runs go on
    const gated: string[] = [];
    for (let i = 0; i < GATED; i++) gated.push(await start('gated'));
    const owners = watchOwners(store, ORPHAN_LIMIT_MS);

    // one gate is held back from the approvals until its holder was killed while it waited
    const heldGate = gated[0]!;
    const waitingGates = async (): Promise<string[]> =>
      (await json<{ runId: string }[]>(await anyReplica(cluster, pick, (s) => s.api('GET', '/v1/approvals')))).map(
        (w) => w.runId,
      );
    let gateHolderKilled: string | undefined;

    // kill -9 a replica at random moments, and start it again after a moment: first the holder of
    // the held-back gate while it waits, then replicas caught running an attempt
    let kills = 0;
    let midAttempt = 0;
    const ledger = join(ctl, 'ledger');
    const chaos = (async () => {
      while (kills < KILLS && !cluster.closed()) {
        await new Promise((resolve) => setTimeout(resolve, 1000 + pick() * 2000));
        let victim: number | undefined;
        if (kills === 0) {
          await eventually(
            async () => ((await waitingGates()).includes(heldGate) ? true : undefined),
            300_000,
            'the held-back gate to wait',
          );
          victim = await eventually(() => slotHolding(cluster, store, heldGate), 60_000, 'a live holder of the gate');
          gateHolderKilled = (await store.runs.get(heldGate))!.owner!;
        } else {
          for (let i = 0; i < 50 && victim === undefined; i++) {
            victim = await slotMidAttempt(cluster, store, ledger, pick);
            if (victim === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
          }
          if (victim !== undefined) midAttempt += 1;
        }
        const live = [0, 1, 2].filter((i) => cluster.replica(i) !== undefined);
        victim ??= live[Math.floor(pick() * live.length)]!;
        await cluster.kill(victim);
        kills += 1;
        t.diagnostic(`kill -9 of replica ${victim} (${kills})`);
        await writeUrls();
        await new Promise((resolve) => setTimeout(resolve, 300 + pick() * 2500));
        await cluster.start(victim);
        await writeUrls();
      }
    })();

    // the chaos runs, four requests at a time while the kills begin, then the runs to cancel
    const runs: string[] = [];
    let asked = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (asked < RUNS) {
          asked += 1;
          runs.push(await start('chaos'));
        }
      }),
    );
    const victims: string[] = [];
    for (let i = 0; i < CANCELLED; i++) victims.push(await start('victim'));
    const followers = runs.slice(0, FOLLOWED).map((id) => follow(cluster, pick, id));

    // the held-back gate: taken over by a live replica, still waiting, approved through another
    const gateTakenOver = (async () => {
      await eventually(
        async () => (gateHolderKilled !== undefined ? true : undefined),
        600_000,
        'the gate holder kill',
      );
      const holder = await eventually(
        async () => {
          const owner = (await store.runs.get(heldGate))!.owner;
          return owner !== gateHolderKilled ? slotHolding(cluster, store, heldGate) : undefined;
        },
        120_000,
        'the gate to be taken over by a live replica',
      );
      assert.ok((await waitingGates()).includes(heldGate), 'the gate still waits on its new holder');
      const answer = await anyReplica(
        cluster,
        pick,
        (s) => s.api('POST', `/v1/runs/${heldGate}/stages/approve/approve`),
        (s) => s !== cluster.replica(holder),
      );
      const text = await answer.text();
      if (answer.status === 409) {
        // the replica answering an earlier try was killed under it, after the decision was recorded
        const gate = (await store.taskRuns.listByRun(heldGate)).find((x) => x.stage === 'approve');
        assert.equal(gate?.result, 'success', `a 409 only after the decision was recorded: ${text}`);
      } else {
        assert.equal(answer.status, 200, text);
      }
    })();

    // finished runs rerun through replicas that did not hold them
    const reruns = (async () => {
      const created: string[] = [];
      for (const id of runs.slice(FOLLOWED, FOLLOWED + RERUNS)) {
        const old = await eventually(
          async () => {
            const run = await store.runs.get(id);
            return run?.state === 'succeeded' ? run : undefined;
          },
          300_000,
          `run ${id} to succeed before its rerun`,
        );
        const heldBy = (await store.replicas.list()).find((r) => r.id === old.owner)?.url;
        const answer = await anyReplica(
          cluster,
          pick,
          (s) => s.api('POST', `/v1/runs/${id}/rerun`, { from: 'start' }),
          (s) => s.url !== heldBy,
        );
        created.push((await json<{ id: string }>(answer)).id);
      }
      return created;
    })();

    // approvals and cancels through random replicas, while it goes on
    const approvals = (async () => {
      const left = new Set(gated.filter((id) => id !== heldGate));
      while (left.size > 0) {
        const waiting = await json<{ runId: string }[]>(
          await anyReplica(cluster, pick, (s) => s.api('GET', '/v1/approvals')),
        );
        for (const { runId } of waiting) {
          if (!left.has(runId)) continue;
          const answer = await anyReplica(cluster, pick, (s) =>
            s.api('POST', `/v1/runs/${runId}/stages/approve/approve`),
          );
          if (answer.ok || answer.status === 409) left.delete(runId);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    const cancels = (async () => {
      for (const id of victims) {
        await eventually(
          async () =>
            (await readFile(join(ctl, `victim-${id}`)).catch(() => undefined)) !== undefined ? true : undefined,
          300_000,
          `victim ${id} to start`,
        );
        const answer = await anyReplica(cluster, pick, (s) => s.api('POST', `/v1/runs/${id}/cancel`));
        assert.ok(answer.status === 202 || answer.status === 409, `${answer.status}: ${await answer.text()}`);
      }
    })();

    await chaos;
    assert.ok(kills >= 5);
    await approvals;
    await cancels;
    await gateTakenOver;
    runs.push(...(await reruns));
    const everyRun = [...runs, ...gated, ...victims];
    await eventually(
      async () => {
        const states = await Promise.all(everyRun.map(async (id) => (await store.runs.get(id))?.state));
        return states.every((s) => s !== 'queued' && s !== 'running') ? true : undefined;
      },
      600_000,
      'every run to end',
    );
    const alone = await owners.stop();
    t.diagnostic(
      `${midAttempt} kills mid-attempt; a run stayed running without a live owner for ${alone.longestMs} ms at most;` +
        ` one replica held ${alone.mostHeld} unended runs at most (cap ${MAX_ACTIVE_RUNS} + ${GATED} at a gate)`,
    );
    // takeover bounded by room: a survivor never takes more than it may carry (it once took 188 with a cap of 60)
    assert.ok(
      alone.mostHeld <= MAX_ACTIVE_RUNS + GATED,
      `one replica held ${alone.mostHeld} runs at once: over maxActiveRuns ${MAX_ACTIVE_RUNS} + ${GATED} gated`,
    );
    assert.ok(alone.samples > 10, `the owners were sampled during the chaos (${alone.samples} samples)`);
    assert.deepEqual(alone.over, [], `runs left running without a live owner over ${ORPHAN_LIMIT_MS} ms`);
    const gateTasks = (await store.taskRuns.listByRun(heldGate)).filter((x) => x.stage === 'approve');
    assert.deepEqual(
      gateTasks.map((x) => [x.attempt, x.state]),
      [[1, 'succeeded']],
      "the gate waited through its holder's death and was decided once",
    );

    // every run ended as it should, held at the end by a live or stopped replica, never by a dead one
    for (const id of [...runs, ...gated]) {
      const run = (await store.runs.get(id))!;
      assert.equal(run.state, 'succeeded', `run ${id}: ${run.state} ${run.reason ?? ''}`);
    }
    for (const id of victims) {
      const run = (await store.runs.get(id))!;
      assert.equal(run.state, 'cancelled', `victim ${id}: ${run.state} ${run.reason ?? ''}`);
    }
    for (const followed of await Promise.all(followers)) assert.equal(followed.state, 'succeeded');

    // the ledger: each successful attempt's effect once; no attempt after a later one began
    const lines = parseLedger(await readFile(join(ctl, 'ledger'), 'utf8'));
    const tasks: TaskRunRecord[] = (await Promise.all(runs.map((id) => store.taskRuns.listByRun(id)))).flat();
    let retried = 0;
    let retriedAfterKill = 0;
    for (const task of tasks) {
      const key = (l: Line) => l.run === task.runId && l.action === task.action && l.attempt === task.attempt;
      const mine = lines.filter(key);
      assert.ok(
        mine.filter((l) => l.kind === 'start').length <= 1,
        `attempt ${task.runId} ${task.action} ${task.attempt} started twice`,
      );
      if (task.state === 'succeeded') {
        assert.equal(
          mine.filter((l) => l.kind === 'effect').length,
          1,
          `effect of ${task.runId} ${task.action} ${task.attempt}`,
        );
      }
      if (task.attempt > 1) retried += 1;
      const before = tasks.find(
        (x) => x.runId === task.runId && x.action === task.action && x.attempt === task.attempt - 1,
      );
      if (before?.reason?.startsWith('lost:') === true) retriedAfterKill += 1;
    }
    assert.ok(retriedAfterKill >= 1, 'at least one attempt was lost to a kill and retried');
    const byAction = new Map<string, number[]>();
    lines.forEach((l, i) => {
      const k = `${l.run} ${l.action}`;
      byAction.set(k, [...(byAction.get(k) ?? []), i]);
    });
    for (const [action, indexes] of byAction) {
      let highest = 0;
      for (const i of indexes) {
        const line = lines[i]!;
        assert.ok(
          line.attempt >= highest,
          `${action}: a line of attempt ${line.attempt} after attempt ${highest} began (ledger line ${i})`,
        );
        if (line.kind === 'start') highest = line.attempt;
      }
    }
    for (const task of tasks) {
      if (task.attempt === 1) continue;
      const before = tasks.find(
        (x) => x.runId === task.runId && x.action === task.action && x.attempt === task.attempt - 1,
      );
      assert.ok(
        // an attempt its replica died starting (created, never recorded running) is judged by when
        // it was created: both seen once (seed 102634, session 5; seed 681348, session 6)
        before !== undefined && before.endedAt !== null && before.endedAt <= (task.startedAt ?? task.createdAt),
        // said in full, with the ledger's own order check (the components' real times) above
        `${task.runId} ${task.action}: attempt ${task.attempt} started at ${task.startedAt} (${task.state}, ${task.reason ?? 'no reason'}), attempt ` +
          `${task.attempt - 1} ${before === undefined ? 'is missing' : `ended at ${before.endedAt} (${before.state}, ${before.reason ?? 'no reason'})`}`,
      );
    }
    t.diagnostic(`${tasks.length} task runs, ${retried} retried, ${retriedAfterKill} of them after a kill`);

    // callbacks through replicas that did not hold the run were applied
    const replicas = await store.replicas.list();
    const urlOf = new Map(replicas.map((r) => [r.id, r.url]));
    let elsewhere = 0;
    for (const id of runs) {
      const run = (await store.runs.get(id))!;
      const posted = lines.filter((l) => l.run === id && l.kind === 'posted');
      elsewhere += posted.filter((l) => l.rest !== urlOf.get(run.owner!)).length;
      for (const task of tasks.filter(
        (x) => x.runId === id && x.state === 'succeeded' && (x.action === 'a' || x.action === 'd'),
      )) {
        assert.equal(task.output['posted'], 'yes', `the relayed TASK_RESULT of ${id} ${task.action}`);
      }
    }
    assert.ok(elsewhere > RUNS / 2, `callbacks went to replicas that did not hold the run (${elsewhere})`);

    // CDEvents: every event of every run delivered, first copies in the order they were written
    await eventually(
      async () => ((await store.deliveries.countPending()) === 0 ? true : undefined),
      300_000,
      'every event delivered',
    );
    const firstSeen = new Map<string, number>();
    receiver.requests.forEach((r, i) => {
      const id = r.headers['ce-id'];
      if (typeof id === 'string' && !firstSeen.has(id)) firstSeen.set(id, i);
    });
    const outOfOrder: string[] = [];
    for (const id of everyRun) {
      const events = await store.outbox.listByRun(id);
      const order = events.map((e) => firstSeen.get(e.id));
      assert.ok(
        order.every((i) => i !== undefined),
        `every event of run ${id} was delivered`,
      );
      if (order.some((i, k) => k > 0 && i! < order[k - 1]!)) outOfOrder.push(id);
      assert.equal(events[0]!.type, 'dev.cdevents.pipelinerun.queued.0.3.0');
      assert.equal(events.at(-1)!.type, 'dev.cdevents.pipelinerun.finished.0.3.0');
    }
    t.diagnostic(`${outOfOrder.length} of ${everyRun.length} runs had events delivered out of order`);
    // A run's outbox writes are serialised and delivered in that order (issue 11), also when
    // several replicas write one run's events (relayed callbacks, takeovers).
    assert.deepEqual(outOfOrder, [], 'the events of each run reach the sink in the order they were written');
  },
);
