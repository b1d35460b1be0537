#!/usr/bin/env node
// `npm run bench:failover` (issue 11): how long a dead replica's runs stay without a live owner.
// Two real `pilotage serve` replicas on a throwaway PostgreSQL; the first carries BENCH_RUNS
// (default 20) runs whose one action sleeps 8 s; it is killed with `kill -9` while they run. The
// bench watches the store (every 50 ms) until every one of those runs is held by the survivor,
// until each one's lost attempt is retried, and until all have ended, and compares the first
// figure with the bound the lease settings give. Scenarios: replicas as on two hosts (distinct
// engine ids: only the lease's expiry tells the survivor), with the default heartbeat and lease
// and with a short lease; as on one host (same engine id: the survivor sees the dead process at
// its next heartbeat); and on one host with the survivor already carrying its `maxActiveRuns`
// (takeover within room: the dead one's runs wait until its own end). See bench/README.md
// ("Issue 11", failover).
//   node --import tsx bench/failover.mjs   after `npm run build` (tsx: the PostgreSQL helper is TypeScript)
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { startPostgres } from '../packages/engine/test/support/postgres.ts';
import { startServe, stopServe } from '../packages/engine/test/support/serve-process.ts';
import { loadLine, loadNow, machineLine, positiveEnv } from './common.mjs';
import { fixed, formatTable } from './table.mjs';

/** The issue's figure: with the defaults, a dead replica's runs move within about this, ms. */
const ISSUE_BOUND_MS = 20_000;
const POLL_MS = 50;
/** longer than the longest wait before the kill (a heartbeat), so that every run is mid-attempt when it comes */
const ACTION_MS = 8000;

const runs = positiveEnv('BENCH_RUNS', 20);
const progress = (text) => process.stderr.write(`${text}\n`);

const workflow = `apiVersion: pilotage.dev/v1
kind: Workflow
name: failover
stages:
  - name: s
    actions:
      - name: work
        retries: { limit: 3, backoff: 100ms }
        run: sleep ${ACTION_MS / 1000}
`;

/**
 * Each scenario: its settings, whether the replicas share an engine id (one host), and the bound
 * on the time until the survivor holds the runs that the docs give for it, ms.
 */
const SCENARIOS = [
  {
    name: 'two hosts, defaults (heartbeat 5 s, lease 15 s)',
    heartbeatMs: 5000,
    leaseMs: 15_000,
    oneHost: false,
  },
  { name: 'two hosts, heartbeat 500 ms, lease 3 s', heartbeatMs: 500, leaseMs: 3000, oneHost: false },
  { name: 'one host, defaults (the dead process is seen)', heartbeatMs: 5000, leaseMs: 15_000, oneHost: true },
  // takeover within room: the survivor already carries maxActiveRuns runs of its own, so the dead
  // one's wait until those end (at most one action later)
  {
    name: 'one host, defaults, survivor full (maxActiveRuns reached)',
    heartbeatMs: 5000,
    leaseMs: 15_000,
    oneHost: true,
    survivorFull: true,
  },
].map((s) => ({
  ...s,
  boundMs: (s.oneHost ? s.heartbeatMs : s.leaseMs + s.heartbeatMs) + (s.survivorFull ? ACTION_MS : 0),
}));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check` every POLL_MS until it answers a value; that value. */
async function until(check, what, timeoutMs = 120_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

async function json(response) {
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.status}: ${text}`);
  return JSON.parse(text);
}

/** One scenario on a database of its own: the times from the kill, ms. */
async function scenario(pgServer, dir, s, index) {
  const url = await pgServer.createDatabase(`bench_failover_${index}`);
  const env = (name) => ({
    PILOTAGE_DB: url,
    PILOTAGE_ENCRYPTION_KEY: 'bench-failover-key',
    PILOTAGE_HEARTBEAT: `${s.heartbeatMs}ms`,
    PILOTAGE_LEASE_TTL: `${s.leaseMs}ms`,
    ...(s.oneHost ? {} : { PILOTAGE_ENGINE_ID: `bench-host-${name}` }),
    ...(s.survivorFull ? { PILOTAGE_MAX_ACTIVE_RUNS: String(runs) } : {}),
  });
  const start = async (name, token) => {
    const data = join(dir, `${index}-${name}`);
    await mkdir(data, { recursive: true });
    return startServe(data, env(name), [], token === undefined ? {} : { token });
  };
  const db = new pg.Client({ connectionString: url });
  const victim = await start('a');
  const survivor = await start('b', victim.token);
  try {
    await db.connect();
    await json(await victim.api('POST', '/v1/workflows', workflow));
    const ids = [];
    for (let i = 0; i < runs; i++) {
      ids.push((await json(await victim.api('POST', '/v1/workflows/failover/runs', { data: {} }))).id);
    }
    const victimId = (await json(await victim.api('GET', '/v1/replicas'))).find((r) => r.self).id;
    // every run held by the victim with its attempt running
    await until(async () => {
      const { rows } = await db.query(
        `select count(*) as n from runs r join task_runs t on t.run_id = r.id
          where r.id = any($1) and r.owner = $2 and t.state = 'running'`,
        [ids, victimId],
      );
      return Number(rows[0].n) === runs ? true : undefined;
    }, 'the runs to run on the first replica');
    const own = [];
    if (s.survivorFull) {
      for (let i = 0; i < runs; i++) {
        own.push((await json(await survivor.api('POST', '/v1/workflows/failover/runs', { data: {} }))).id);
      }
      await until(async () => {
        const { rows } = await db.query(
          `select count(*) as n from task_runs where run_id = any($1) and state = 'running'`,
          [own],
        );
        return Number(rows[0].n) === runs ? true : undefined;
      }, 'the survivor to be full');
    }
    // a moment into the heartbeat period, so that the kill does not always land just after a renewal
    await sleep(Math.random() * s.heartbeatMs);
    const { rows: leaseRows } = await db.query(
      `select expires_at - (extract(epoch from clock_timestamp()) * 1000)::bigint as left_ms from replicas where id = $1`,
      [victimId],
    );
    const killedAt = performance.now();
    victim.child.kill('SIGKILL');
    await victim.exited;
    // one loop over the store (one connection): when each milestone was first seen
    const at = { held: undefined, retried: undefined, ended: undefined, room: undefined };
    await until(async () => {
      const { rows } = await db.query(
        `select count(*) filter (where r.state not in ('queued', 'running')
                  or (r.owner <> $2 and p.expires_at >= (extract(epoch from clock_timestamp()) * 1000)::bigint)) as held,
                count(*) filter (where exists (select 1 from task_runs t where t.run_id = r.id and t.attempt > 1)) as retried,
                count(*) filter (where r.state not in ('queued', 'running')) as ended,
                count(*) filter (where r.state = 'succeeded') as ok
           from runs r left join replicas p on p.id = r.owner
          where r.id = any($1)`,
        [ids, victimId],
      );
      const now = performance.now() - killedAt;
      const row = rows[0];
      if (own.length > 0 && at.room === undefined) {
        // the survivor's own runs ending: the room the dead replica's runs wait for
        const mine = await db.query(`select count(*) as n from runs where id = any($1) and state = 'running'`, [own]);
        if (Number(mine.rows[0].n) < runs) at.room = now;
      }
      if (Number(row.held) === runs) at.held ??= now;
      if (Number(row.retried) === runs) at.retried ??= now;
      if (Number(row.ended) < runs) return undefined;
      if (Number(row.ok) < runs) throw new Error(`${runs - Number(row.ok)} runs did not succeed`);
      // a local process does not outlive its engine: every run's attempt was lost, and retried
      if (at.retried === undefined) throw new Error('a run was not retried: it ended before the kill');
      at.ended = now;
      return true;
    }, 'every run to be held by the survivor, retried and ended');
    const result = {
      leaseLeftMs: Number(leaseRows[0].left_ms),
      heldMs: at.held,
      retriedMs: at.retried,
      endedMs: at.ended,
      roomMs: at.room,
      load: loadNow(),
    };
    return result;
  } finally {
    await db.end().catch(() => undefined);
    victim.child.kill('SIGKILL');
    await stopServe(survivor);
  }
}

const dir = await mkdtemp(join(tmpdir(), 'pilotage-bench-failover-'));
console.log(`\nPilotage failover bench (issue 11), ${new Date().toISOString().slice(0, 16)} UTC`);
console.log(machineLine());
console.log(loadLine('start'));
const pgServer = await startPostgres();
let failed = false;
try {
  const rows = [
    [
      'scenario',
      'lease left at the kill, s',
      'survivor had room, s',
      'held by the survivor, s',
      'of which after the lease ran out, s',
      'bound, s',
      'lost attempts retried, s',
      'runs ended, s',
      'load (1 min)',
    ],
  ];
  const results = [];
  for (const [i, s] of SCENARIOS.entries()) {
    progress(`${s.name}: ${runs} runs on the first replica, then kill -9...`);
    const r = await scenario(pgServer, dir, s, i);
    results.push([s, r]);
    rows.push([
      s.name,
      fixed(r.leaseLeftMs / 1000, 1),
      r.roomMs === undefined ? 'at once' : fixed(r.roomMs / 1000, 1),
      fixed(r.heldMs / 1000, 1),
      s.oneHost ? '(not waited for)' : fixed((r.heldMs - r.leaseLeftMs) / 1000, 1),
      `≤ ${fixed(s.boundMs / 1000, 1)}`,
      fixed(r.retriedMs / 1000, 1),
      fixed(r.endedMs / 1000, 1),
      r.load,
    ]);
  }
  console.log(
    `\nTwo \`pilotage serve\` replicas on one PostgreSQL (fsync off); ${runs} runs of one action (\`sleep ${ACTION_MS / 1000}\`,` +
      ` local executor) carried by the first, which is killed with kill -9 while they run; times from the kill,` +
      ` from polling the store every ${POLL_MS} ms. "held": every run's owner is the survivor with a live lease.` +
      ` Bound: lease + heartbeat on two hosts (the lease must run out, then the survivor's next heartbeat takes over),` +
      ` the heartbeat on one host (the survivor sees the dead process), plus one action when the survivor is full` +
      ` (takeover within room: its own runs must end first); the runs then end one retried attempt later.`,
  );
  console.log(formatTable(rows));
  const verdict = (ok) => {
    failed ||= !ok;
    return ok ? 'met' : 'NOT MET';
  };
  const [defaults, defaultsResult] = results[0];
  console.log(
    `\nIssue 11: "defaults such that a dead replica's runs move within ~${ISSUE_BOUND_MS / 1000} s": two hosts, defaults:` +
      ` ${fixed(defaultsResult.heldMs / 1000, 1)} s ${verdict(defaultsResult.heldMs <= ISSUE_BOUND_MS + 1000)}`,
  );
  for (const [s, r] of results) {
    // a figure past its bound by more than a poll and a second of scheduling on a loaded machine
    if (r.heldMs > s.boundMs + 1000) console.log(`  over its bound: ${s.name} (${fixed(r.heldMs / 1000, 1)} s)`);
  }
  if (defaults === undefined) failed = true;
  console.log(loadLine('end'));
} finally {
  await pgServer.stop();
  await rm(dir, { recursive: true, force: true });
}
if (failed) process.exitCode = 1;
