import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LIMIT_NOTICE_PREFIX } from '../src/domain/task-run-limits.js';
import { applyWorkflow, waitForEnd } from './api-runs-support.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';
import { writeChattyComponent } from './support/chatty-component.js';
import type { StoreHarness } from './store-suite/harness.js';
import { onEachDialect } from './store-suite/on-each-dialect.js';

/**
 * The run view pages a task run's statuses and the run's transitions (issue 12 item 4), on a
 * server whose store is SQLite or a real PostgreSQL: a real component posts 100 reports over
 * HTTP against a cap of 60; the detail carries only the latest, the rest come by pages.
 */
function historyCases(name: string, store: StoreHarness): void {
  describe(name, () => {
    let h: ApiHarness;
    let dir: string;
    let runId: string;
    let taskId: string;
    before(async () => {
      await store.setup();
      dir = await mkdtemp(join(tmpdir(), 'pilotage-history-'));
      const program = await writeChattyComponent(dir, { reports: 100, logLines: 3 });
      h = await createApiHarness({ config: { db: await store.freshUrl(), taskMaxStatuses: 60 } });
      await applyWorkflow(
        h,
        'chatty',
        `stages:\n  - name: s\n    actions:\n      - name: talk\n        run: node ${JSON.stringify(program)}\n`,
      );
      const started = await h.call('POST', '/v1/workflows/chatty/runs', { body: {} });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      runId = started.body.id;
      const ended = await waitForEnd(h, runId, 60_000);
      assert.equal(ended.run.state, 'succeeded', h.logText());
      taskId = ended.actions[0].attempts[0].id;
    });
    after(async () => {
      await h?.close();
      await rm(dir, { recursive: true, force: true });
      await store.teardown();
    });

    test('the run detail carries the latest statuses and transitions and their counts; query sizes them', async () => {
      const detail = (await h.call('GET', `/v1/runs/${runId}`)).body;
      const attempt = detail.actions[0].attempts[0];
      assert.equal(attempt.statusCount, 60);
      assert.deepEqual(attempt.dropped, { statuses: 40, logLines: 0, logBytes: 0 });
      assert.deepEqual(
        attempt.statuses.map((s: { seq: number }) => s.seq),
        Array.from({ length: 20 }, (_, i) => 41 + i),
        'the latest 20 by default, oldest first',
      );
      assert.deepEqual(attempt.output, { kept: 'the result', reports: 100, tail: 'after-the-cap' });
      assert.equal(attempt.transitionCount, attempt.transitions.length);
      assert.deepEqual(
        attempt.transitions.map((t: { to: string }) => t.to),
        ['pending', 'starting', 'running', 'succeeded'],
      );
      assert.equal(detail.transitionCount, detail.transitions.length);

      const small = (await h.call('GET', `/v1/runs/${runId}?statuses=5&transitions=2`)).body;
      const few = small.actions[0].attempts[0];
      assert.deepEqual(
        few.statuses.map((s: { seq: number; message: string }) => [s.seq, s.message.trim()]),
        [56, 57, 58, 59, 60].map((seq) => [seq, `report ${seq}`]),
      );
      assert.deepEqual(
        few.transitions.map((t: { to: string }) => t.to),
        ['running', 'succeeded'],
      );
      assert.equal(few.transitionCount, 4);
      assert.deepEqual(
        small.transitions.map((t: { to: string }) => t.to),
        detail.transitions.slice(-2).map((t: { to: string }) => t.to),
      );
      assert.equal(small.transitionCount, detail.transitionCount);
      const none = (await h.call('GET', `/v1/runs/${runId}?statuses=0&transitions=0`)).body;
      assert.deepEqual([none.actions[0].attempts[0].statuses, none.transitions], [[], []]);
      assert.equal(none.actions[0].attempts[0].transitionCount, 4, 'counts even when none are carried');
      assert.equal((await h.call('GET', `/v1/runs/${runId}?statuses=5000`)).status, 400);
    });

    test('statuses page forwards by seq and back from the newest', async () => {
      const path = `/v1/runs/${runId}/tasks/${taskId}/statuses`;
      const forwards: number[] = [];
      for (let after = 0; ;) {
        const page = (await h.call('GET', `${path}?after=${after}&limit=25`)).body;
        assert.deepEqual([page.statusCount, page.dropped, page.taskState], [60, 40, 'succeeded']);
        if (page.statuses.length === 0) break;
        forwards.push(...page.statuses.map((s: { seq: number }) => s.seq));
        after = page.statuses.at(-1).seq;
      }
      assert.deepEqual(
        forwards,
        Array.from({ length: 60 }, (_, i) => i + 1),
      );
      const back: number[][] = [];
      for (let before = 61; before > 1;) {
        const page = (await h.call('GET', `${path}?before=${before}&limit=25`)).body;
        back.push(page.statuses.map((s: { seq: number }) => s.seq));
        before = page.statuses[0].seq;
      }
      assert.deepEqual(
        back.map((p) => [p[0], p.at(-1), p.length]),
        [
          [36, 60, 25],
          [11, 35, 25],
          [1, 10, 10],
        ],
      );
      assert.equal((await h.call('GET', `${path}?after=1&before=5`)).status, 400);
      assert.equal((await h.call('GET', `/v1/runs/${runId}/tasks/nope/statuses`)).status, 404);
    });

    test('transitions page by cursor, all or one entity', async () => {
      const all: { entityId: string; to: string }[] = [];
      let pages = 0;
      for (let cursor: string | null = null; ;) {
        const query: string = cursor === null ? 'limit=2' : `limit=2&cursor=${cursor}`;
        const page = (await h.call('GET', `/v1/runs/${runId}/transitions?${query}`)).body;
        pages += 1;
        all.push(...page.transitions);
        cursor = page.nextCursor;
        if (cursor === null) break;
      }
      const detail = (await h.call('GET', `/v1/runs/${runId}`)).body;
      assert.equal(all.length, detail.transitionCount + 4);
      assert.equal(pages, Math.ceil(all.length / 2));
      assert.deepEqual(
        all.filter((t) => t.entityId === taskId).map((t) => t.to),
        ['pending', 'starting', 'running', 'succeeded'],
      );
      assert.deepEqual(
        all.filter((t) => t.entityId === runId).map((t) => t.to),
        detail.transitions.map((t: { to: string }) => t.to),
      );
      const own = (await h.call('GET', `/v1/runs/${runId}/transitions?task=${taskId}`)).body;
      assert.deepEqual(
        own.transitions.map((t: { to: string }) => t.to),
        ['pending', 'starting', 'running', 'succeeded'],
      );
      assert.equal(own.nextCursor, null);
      const bad = await h.call('GET', `/v1/runs/${runId}/transitions?cursor=bm9wZQ`);
      assert.equal(bad.status, 400);
      assert.match(JSON.stringify(bad.body), /querystring\.cursor/);
      assert.equal((await h.call('GET', `/v1/runs/${runId}/transitions?task=nope`)).status, 404);
    });

    test('the notice of the status cap is in the log', async () => {
      const log = (await h.call('GET', `/v1/runs/${runId}/tasks/${taskId}/logs`)).body;
      const notices = log.lines.filter((l: { line: string }) => l.line.startsWith(LIMIT_NOTICE_PREFIX));
      assert.equal(notices.length, 1);
      assert.match(notices[0].line, /cap of 60 reports/);
    });
  });
}

await onEachDialect('run history pages', historyCases);
