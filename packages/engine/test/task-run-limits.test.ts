import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LIMIT_NOTICE_PREFIX } from '../src/domain/task-run-limits.js';
import { openStore } from '../src/store/open-store.js';
import { writeChattyComponent } from './support/chatty-component.js';
import { runCli } from './support/cli.js';
import { startServe, stopServe, waitRunEnded, type ServeProcess } from './support/serve-process.js';

/**
 * Issue 12 item 4, scaled down: one task posted TASK_STATUS until the store held 117 MB. Here a
 * real component (a Node program, real HTTP callbacks to a real `pilotage serve`) posts 400
 * reports of ~500 bytes and prints ~250 KB of log against caps of 50 reports and 64 KiB of log
 * set through the environment: the store keeps the caps' worth, counts the rest, writes one
 * notice per cap, and the TASK_RESULT and [COUT] outputs are kept whole.
 */
const REPORTS = 400;
const LOG_LINES = 3000;
const CAPS = {
  PILOTAGE_TASK_MAX_STATUSES: '50',
  PILOTAGE_TASK_MAX_STATUS_BYTES: '1MiB',
  PILOTAGE_TASK_MAX_LOG_BYTES: '64KiB',
};

describe('per task run caps on a real server (issue 12 item 4, scaled down)', () => {
  let dir: string;
  let server: ServeProcess | undefined;
  let program: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-limits-'));
    program = await writeChattyComponent(dir, { reports: REPORTS, logLines: LOG_LINES, padding: 480 });
  });
  after(async () => {
    if (server !== undefined) await stopServe(server);
    await rm(dir, { recursive: true, force: true });
  });

  test('a component posting past the caps: the store stays bounded, one notice and a count per cap, the result kept', async () => {
    server = await startServe(dir, CAPS);
    const workflow = `apiVersion: pilotage.dev/v1
kind: Workflow
name: chatty
stages:
  - name: s
    actions:
      - name: talk
        run: node ${JSON.stringify(program)}
`;
    const applied = await server.api('POST', '/v1/workflows', workflow);
    assert.ok(applied.ok, await applied.text());
    const started = await server.api('POST', '/v1/workflows/chatty/runs', { data: {} });
    const { id } = (await started.json()) as { id: string };
    const run = await waitRunEnded(server, id, 120_000);
    assert.equal(run.state, 'succeeded', server.output());

    // the CLI on the server: counts under the attempt, the latest reports by pages, the notices in the log
    const remote = { env: { PILOTAGE_SERVER: server.url, PILOTAGE_TOKEN: server.token } };
    const shown = await runCli(['runs', 'show', id, '--statuses', '3'], remote);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`statuses: 50 stored, ${REPORTS - 50} dropped past the cap`));
    assert.match(shown.stdout, /log: \d+ lines \([\d.]+ KiB\) dropped past the cap/);
    assert.deepEqual(
      [...shown.stdout.matchAll(/^ +#(\d+) \S+ \d+% report \d+/gm)].map((m) => Number(m[1])),
      [48, 49, 50],
    );
    const logs = await runCli(['runs', 'logs', id], remote);
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout.split('\n').filter((l) => l.includes(LIMIT_NOTICE_PREFIX)).length, 2);
    await stopServe(server);
    server = undefined;

    // and on the local store
    const local = await runCli(['runs', 'show', id, '--statuses', '2', '--db', join(dir, 'pilotage.db')]);
    assert.equal(local.code, 0, local.stderr);
    assert.match(local.stdout, new RegExp(`statuses: 50 stored, ${REPORTS - 50} dropped past the cap`));
    assert.deepEqual(
      [...local.stdout.matchAll(/^ +#(\d+) /gm)].map((m) => Number(m[1])),
      [49, 50],
    );

    const store = await openStore({ url: join(dir, 'pilotage.db') });
    try {
      const [task] = await store.taskRuns.listByRun(id);
      assert.ok(task !== undefined);
      assert.equal(task.statusCount, 50);
      assert.equal((await store.statuses.list(task.id)).length, 50, 'the store keeps the cap');
      assert.equal(task.dropped.statuses, REPORTS - 50, 'and counts the rest');
      assert.deepEqual(task.output, { kept: 'the result', reports: REPORTS, tail: 'after-the-cap' });
      assert.equal(task.result, 'success');
      const log = await store.logs.read(task.id, 0, 10_000);
      const bytes = log.reduce((sum, l) => sum + Buffer.byteLength(l.line) + 1, 0);
      const notices = log.filter((l) => l.line.startsWith(LIMIT_NOTICE_PREFIX));
      assert.equal(notices.length, 2, 'one notice per cap');
      assert.ok(bytes - notices.reduce((sum, l) => sum + l.line.length + 1, 0) <= 64 * 1024, `${bytes} bytes kept`);
      assert.ok(task.dropped.logLines > 2000, `${task.dropped.logLines} lines dropped`);
      const printed = LOG_LINES * 82 + '[COUT] tail=after-the-cap\n'.length;
      assert.equal(bytes - notices.reduce((sum, l) => sum + l.line.length + 1, 0) + task.dropped.logBytes, printed);
    } finally {
      await store.close();
    }
  });
});
