import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { json, replicaId, runDetail, runEnded, runWhen, waitFile, type RunDetailBase } from './support/replica-api.js';
import { replicaCluster } from './support/replica-cluster.js';
import type { ServeProcess } from './support/serve-process.js';

/**
 * A cancel is an intent in the store, whichever replica receives it (issue 11): its holder acts
 * on it once, and a replica taking the run over acts on it too. Real `pilotage serve` processes
 * on a real PostgreSQL; the components wait for files the test writes, never for time.
 */

function workflow(ctl: string): string {
  return `apiVersion: pilotage.dev/v1
kind: Workflow
name: tidy
stages:
  - name: s
    actions:
      - name: wait
        run: |
          touch '${ctl}/started-'"$CO_RUN_ID"
          while true; do sleep 0.05; done
finally:
  - name: tidy
    actions:
      - name: clean
        retries: { limit: 1, backoff: 50ms }
        run: |
          touch '${ctl}/tidy-'"$CO_RUN_ID-$CO_ATTEMPT"
          while [ ! -e '${ctl}/release-'"$CO_RUN_ID" ]; do sleep 0.05; done
`;
}

interface RunDetail extends RunDetailBase {
  actions: { name: string; attempts: { attempt: number; state: string; reason: string | null }[] }[];
}

const detail = (server: ServeProcess, runId: string): Promise<RunDetail> => runDetail<RunDetail>(server, runId);

function attempts(d: RunDetail): string {
  return d.actions.map((a) => `${a.name}: ${a.attempts.map((x) => `${x.attempt} ${x.state}`).join(', ')}`).join('; ');
}

test('a cancel is recorded in the store and acted on once, by the holder and by whoever takes the run over', async (t) => {
  const cluster = await replicaCluster(t);
  if (cluster === undefined) return;
  const ctl = join(cluster.dir, 'ctl');
  await mkdir(ctl);
  const servers = [await cluster.start(0), await cluster.start(1)];
  await json(await servers[0]!.api('POST', '/v1/workflows', workflow(ctl)));
  const ids = await Promise.all(servers.map(replicaId));

  /** A run of `tidy` started through replica 0, once its first action runs: its holder's slot. */
  async function started(): Promise<{ runId: string; holder: number }> {
    const runId = (await json<{ id: string }>(await servers[0]!.api('POST', '/v1/workflows/tidy/runs', { data: {} })))
      .id;
    await waitFile(join(ctl, `started-${runId}`));
    const owner = (await detail(servers[0]!, runId)).run.owner;
    const holder = ids.indexOf(owner ?? '');
    assert.ok(holder >= 0, `owner ${owner} is one of ${ids.join(', ')}`);
    return { runId, holder };
  }

  await t.test(
    'a cancel through a non-holder does not stop the finally stages at the holder’s next heartbeats',
    async () => {
      const { runId, holder } = await started();
      const other = servers[1 - holder]!;
      assert.equal((await other.api('POST', `/v1/runs/${runId}/cancel`)).status, 202);
      await waitFile(join(ctl, `tidy-${runId}-1`));
      // the holder reads the store's intents at every heartbeat (250 ms): let several go by
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await writeFile(join(ctl, `release-${runId}`), '');
      const d = await runWhen<RunDetail>(other, runId, runEnded, 'the run to end');
      assert.equal(d.run.state, 'cancelled', `${d.run.state} ${d.run.reason ?? ''}; ${attempts(d)}`);
      const clean = d.actions.find((a) => a.name === 'clean')!;
      assert.deepEqual(
        clean.attempts.map((x) => x.state),
        ['succeeded'],
        `the finally action ran to its end: ${attempts(d)}`,
      );
    },
  );

  await t.test(
    'a run cancelled through its holder, which then dies, ends cancelled on the replica taking it over',
    async () => {
      const { runId, holder } = await started();
      assert.equal((await servers[holder]!.api('POST', `/v1/runs/${runId}/cancel`)).status, 202);
      // the holder has recorded the first stage's action cancelled and runs the finally stage
      await waitFile(join(ctl, `tidy-${runId}-1`));
      const before = await detail(servers[holder]!, runId);
      assert.equal(before.actions.find((a) => a.name === 'wait')!.attempts[0]!.state, 'cancelled');
      await cluster.kill(holder);
      const survivor = servers[1 - holder]!;
      // the survivor takes the run over, stops the orphaned finally attempt and runs it again
      await waitFile(join(ctl, `tidy-${runId}-2`));
      await writeFile(join(ctl, `release-${runId}`), '');
      const d = await runWhen<RunDetail>(survivor, runId, runEnded, 'the run taken over to end');
      assert.equal(d.run.owner, ids[1 - holder], 'the survivor carried it to its end');
      assert.equal(d.run.state, 'cancelled', `${d.run.state} ${d.run.reason ?? ''}; ${attempts(d)}`);
      assert.match(d.run.reason ?? '', /cancelled by/);
    },
  );
});
