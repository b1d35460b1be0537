import assert from 'node:assert/strict';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { startReceiver } from './events-test-server.js';
import { eventually } from './support/harness.js';
import { replicaCluster } from './support/replica-cluster.js';
import { json, replicaId } from './support/replica-api.js';

/**
 * A CDEvent a component reports (`CO_CDEVENT`) through a replica that does not hold its run is
 * the event the holder would have built: the same `source` (the run's engine URL, not the
 * relaying replica's), the same link to the task run's `taskrun.started`, the same chain. Two
 * real `pilotage serve` replicas on one real PostgreSQL, each advertising its own URL, a real
 * HTTP sink; the component posts one event to the holder and one to the other replica.
 */

interface DeliveredEvent {
  context: { id: string; type: string; source: string; chainId?: string; links?: unknown[] };
  subject: { id: string };
}

test('a CDEvent relayed through a replica that does not hold the run is the one its holder builds', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const cluster = await replicaCluster(t, { PILOTAGE_EVENT_SINKS: receiver.url });
  if (cluster === undefined) return;
  const ctl = join(cluster.dir, 'ctl');
  await mkdir(ctl);
  const a = await cluster.start(0);
  const b = await cluster.start(1);
  const report = `apiVersion: pilotage.dev/v1
kind: Workflow
name: report
stages:
  - name: s
    actions:
      - name: publish
        run: |
          while [ ! -e '${ctl}/other-'"$CO_RUN_ID" ]; do sleep 0.05; done
          other=$(cat '${ctl}/other-'"$CO_RUN_ID")
          ev() { printf '{"type":"dev.cdevents.artifact.published.0.3.0","subject":{"id":"%s","content":{}}}' "$1"; }
          wget -q -O /dev/null --post-data="$(ev via-holder)" "$CO_CDEVENT" || exit 7
          wget -q -O /dev/null --post-data="$(ev via-other)" "$other/\${CO_CDEVENT#http://*/}" || exit 8
`;
  await json(await a.api('POST', '/v1/workflows', report));
  const runId = (await json<{ id: string }>(await a.api('POST', '/v1/workflows/report/runs', { data: {} }))).id;
  const owner = await eventually(
    async () =>
      (await json<{ run: { owner: string | null } }>(await a.api('GET', `/v1/runs/${runId}`))).run.owner ?? undefined,
    60_000,
    'a holder',
  );
  const [idA, idB] = [await replicaId(a), await replicaId(b)];
  const other = owner === idA ? b : a;
  assert.ok(owner === idA || owner === idB, `held by a replica of the cluster: ${owner}`);
  // written whole, then renamed: the component must never read the file created but still empty
  await writeFile(join(ctl, `other-${runId}.part`), other.url);
  await rename(join(ctl, `other-${runId}.part`), join(ctl, `other-${runId}`));

  const events = await eventually(
    async () => {
      const delivered = receiver.requests.map((r) => JSON.parse(r.body) as DeliveredEvent);
      const ofRun = delivered.filter((e) => e.context.chainId !== undefined);
      const finished = ofRun.some((e) => e.context.type.startsWith('dev.cdevents.pipelinerun.finished.'));
      return finished ? ofRun : undefined;
    },
    60_000,
    'the run to end and its events to be delivered',
  );
  const run = await json<{ run: { state: string } }>(await other.api('GET', `/v1/runs/${runId}`));
  assert.equal(run.run.state, 'succeeded');
  const bySubject = (id: string) => {
    const found = events.filter((e) => e.subject.id === id);
    assert.equal(found.length, 1, `one event ${id}: ${JSON.stringify(events.map((e) => e.subject.id))}`);
    return found[0]!;
  };
  const viaHolder = bySubject('via-holder');
  const viaOther = bySubject('via-other');
  const queued = events.find((e) => e.context.type.startsWith('dev.cdevents.pipelinerun.queued.'))!;
  const taskStarted = events.find((e) => e.context.type.startsWith('dev.cdevents.taskrun.started.'))!;
  assert.ok(queued !== undefined && taskStarted !== undefined);
  // the run was started through `a`: its events are built on a's URL, whoever holds it
  assert.ok(queued.context.source.startsWith(a.url), `${queued.context.source} is on ${a.url}`);
  assert.equal(viaOther.context.source, queued.context.source, "the run's source, not the relaying replica's");
  assert.equal(viaOther.context.source, viaHolder.context.source);
  const parent = [{ linkType: 'RELATION', linkKind: 'PARENT', target: { contextId: taskStarted.context.id } }];
  assert.deepEqual(viaHolder.context.links, parent, "the holder's event links to its taskrun.started");
  assert.deepEqual(viaOther.context.links, parent, 'so does the relayed one');
  assert.equal(viaOther.context.chainId, viaHolder.context.chainId);
  const { id: _h, timestamp: _ht, ...holderRest } = viaHolder.context as Record<string, unknown>;
  const { id: _o, timestamp: _ot, ...otherRest } = viaOther.context as Record<string, unknown>;
  assert.deepEqual(otherRest, holderRest, 'the contexts differ only in id and time');
});
