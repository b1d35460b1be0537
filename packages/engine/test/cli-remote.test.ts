import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { applyWorkflow, waitForEnd, waitForRun } from './api-runs-support.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';
import { runCli, type CliResult } from './support/cli.js';

/** Run the CLI from source (tsx) with `env` only, never the caller's PILOTAGE_*. */
function pilotage(
  args: string[],
  env: Record<string, string>,
  onStdout?: (text: string, kill: (s: NodeJS.Signals) => void) => void,
): Promise<CliResult> {
  return runCli(args, { env, fromSource: true, timeoutMs: 60_000, ...(onStdout ? { onStdout } : {}) });
}

const COUNTER = `inputs: { type: object, required: [count], properties: { count: { type: integer }, gate: { type: string } } }
stages:
  - name: s
    actions:
      - name: count
        with: "\${{ inputs }}"
        run: |
          post() { curl -fsS -o /dev/null -H 'Content-Type: application/json' -d "$2" "$1"; }
          post "$CO_COMPONENT_START" '{}'
          post "$CO_TASK_START" '{}'
          i=1; while [ $i -le $CO_INPUT_COUNT ]; do echo "tick $i"; i=$((i+1)); done
          post "$CO_TASK_STATUS" '{"message":"counted","progress":1}'
          if [ -n "$CO_INPUT_GATE" ]; then while [ ! -f "$CO_INPUT_GATE" ]; do sleep 0.05; done; echo "after gate"; fi
          post "$CO_TASK_RESULT" '{"status":"success","output":{"n":'$CO_INPUT_COUNT'}}'
          post "$CO_COMPONENT_STOP" '{}'
  - name: t
    actions:
      - name: done
        run: echo finished
`;

/**
 * An HTTP proxy in front of `target` that holds each request until `hold(path)` resolves: a
 * client's stream opened as late as the test wants.
 */
async function holdingProxy(
  target: string,
  hold: (path: string) => Promise<void>,
): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    void hold(req.url ?? '/').then(
      () => {
        const forward = request(
          { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        forward.on('error', () => res.destroy());
        req.pipe(forward);
      },
      () => res.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const FAILING = `inputs: { type: object, properties: { flag: { type: string } } }
stages:
  - name: s
    actions:
      - name: broken
        with: "\${{ inputs }}"
        run: |
          echo "about to fail"
          if [ -f "$CO_INPUT_FLAG" ]; then exit 0; fi
          exit 3
`;

describe('the CLI against a server: run --server, runs list|show|logs -f|cancel|retry', { concurrency: false }, () => {
  let h: ApiHarness;
  let env: Record<string, string>;
  before(async () => {
    h = await createApiHarness();
    await applyWorkflow(h, 'counter', COUNTER);
    await applyWorkflow(h, 'failing', FAILING);
    const token = await h.token('run');
    env = { PILOTAGE_SERVER: h.server.url, PILOTAGE_TOKEN: token, PILOTAGE_DATA_DIR: h.dir };
  });
  after(async () => h.close());

  test('run --server NAME follows the run live and exits 0 on success; --input is typed by the server', async () => {
    const r = await pilotage(
      ['run', '--server', h.server.url, '--token', env.PILOTAGE_TOKEN!, 'counter', '--input', 'count=3', '--plain'],
      { PILOTAGE_DATA_DIR: h.dir },
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stderr, /started counter #1 \(run \w+\)/);
    assert.match(r.stdout, /s\/count running/);
    assert.match(r.stdout, /s\/count status 100%: counted/);
    assert.match(r.stdout, /s\/count succeeded/);
    assert.match(r.stdout, /t\/done succeeded/);
    assert.match(r.stdout, /run counter #1 succeeded/);
    assert.match(r.stdout, /details: pilotage runs show \w+ --server/);
    const runs = (await h.call('GET', '/v1/runs?workflow=counter')).body.runs;
    assert.deepEqual(runs[0].inputs, { count: 3 });
  });

  test('run --server: a failed run exits 1 with the failing action and its last log lines; --json ends with the result', async () => {
    const r = await pilotage(['run', 'failing', '--plain'], env);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /✘ s\/broken \(attempt 1\) failed: exited with code 3/);
    assert.match(r.stderr, /│ {3}about to fail/);
    const json = await pilotage(['run', 'failing', '--json'], env);
    assert.equal(json.code, 1);
    const lines = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.at(-1).kind, 'result');
    assert.equal(lines.at(-1).run.state, 'failed');
    assert.ok(lines.some((l) => l.kind === 'task' && l.task.state === 'failed'));
  });

  test('run --server: usage errors (local-only flags, unknown workflow, bad input) exit 2', async () => {
    const local = await pilotage(['run', 'counter', '--server', env.PILOTAGE_SERVER!, '--db', ':memory:'], env);
    assert.equal(local.code, 2);
    assert.match(local.stderr, /--db: only for local runs/);
    // with the server only from the environment, an explicit --db asks for a local run of a file
    const file = await pilotage(['run', 'counter', '--db', ':memory:'], env);
    assert.equal(file.code, 2);
    assert.match(file.stderr, /counter:1:1: cannot read the file/);
    const unknown = await pilotage(['run', 'nope'], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /workflow nope not found/);
    const bad = await pilotage(['run', 'counter', '--input', 'count=many'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /body\.inputs\.count/);
    const noToken = await pilotage(['run', 'counter', '--input', 'count=1'], { PILOTAGE_SERVER: h.server.url });
    assert.equal(noToken.code, 1);
    assert.match(noToken.stderr, /token/i);
  });

  test('run --server: Ctrl-C cancels the run on the server and exits 130', async () => {
    const gate = join(h.dir, 'gate-never');
    let sent = false;
    const r = await pilotage(
      ['run', 'counter', '--input', 'count=1', '--input', `gate=${gate}`, '--plain'],
      env,
      (out, kill) => {
        if (!sent && /s\/count status/.test(out)) {
          sent = true;
          kill('SIGINT');
        }
      },
    );
    assert.equal(r.code, 130, r.stderr);
    const run = (await h.call('GET', '/v1/runs?workflow=counter&limit=1')).body.runs[0];
    assert.equal(run.state, 'cancelled');
  });

  test('run --server: a status reported before the event stream opened is shown once, read when the stream opens', async () => {
    const gate = join(h.dir, 'gate-late-stream');
    // the run's event stream reaches the server only once the component has reported its status
    const proxy = await holdingProxy(h.server.url, async (path) => {
      const id = /^\/v1\/runs\/(\w+)\/events/.exec(path)?.[1];
      if (id !== undefined) await waitForRun(h, id, (d) => d.actions[0]?.attempts?.[0]?.statusCount >= 1);
    });
    try {
      const r = await pilotage(
        ['run', 'counter', '--input', 'count=1', '--input', `gate=${gate}`, '--plain'],
        { ...env, PILOTAGE_SERVER: proxy.url },
        (out) => {
          if (out.includes('s/count running')) void writeFile(gate, '');
        },
      );
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.equal(r.stdout.match(/s\/count status 100%: counted/g)?.length, 1, r.stdout);
      assert.match(r.stdout, /run counter #\d+ succeeded/);
    } finally {
      await proxy.close();
    }
  });

  test('runs logs -f follows a running run over SSE until it ends; runs logs without -f pages', async () => {
    const gate = join(h.dir, 'gate-logs');
    const started = await h.call('POST', '/v1/workflows/counter/runs', { body: { data: { count: 4, gate } } });
    const id = started.body.id;
    await waitForRun(h, id, (d) => d.actions[0].state === 'running');
    let opened = false;
    const r = await pilotage(['runs', 'logs', id, '-f'], env, (out) => {
      if (!opened && out.includes('tick 4')) {
        opened = true;
        void writeFile(gate, '');
      }
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'count │ tick 1',
      'count │ tick 2',
      'count │ tick 3',
      'count │ tick 4',
      'count │ after gate',
      'done │ finished',
    ]);
    await waitForEnd(h, id);
    const once = await pilotage(['runs', 'logs', id, '--task', 'done', '--json'], env);
    assert.equal(once.code, 0, once.stderr);
    const lines = once.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => [l.action, l.seq, l.line]),
      [['done', 1, 'finished']],
    );
  });

  test('runs list, show, cancel and retry against the server', async () => {
    const list = await pilotage(['runs', 'list', '--workflow', 'failing', '--json'], env);
    assert.equal(list.code, 0, list.stderr);
    const failed = JSON.parse(list.stdout).runs[0];
    assert.equal(failed.state, 'failed');
    const show = await pilotage(['runs', 'show', failed.id], env);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /s\/broken attempt 1: failed/);
    assert.match(show.stdout, /exit code: 3/);

    await writeFile(join(h.dir, 'fixed'), '');
    const data = { flag: join(h.dir, 'fixed') };
    const first = await h.call('POST', '/v1/workflows/failing/runs', {
      body: { data: { flag: join(h.dir, 'absent') } },
    });
    const firstEnd = await waitForEnd(h, first.body.id);
    assert.equal(firstEnd.run.state, 'failed');
    const retried = await pilotage(['runs', 'retry', first.body.id, '--from', 'start'], env);
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stdout, /a rerun of \w+ from start/);
    const succeeded = await h.call('POST', '/v1/workflows/failing/runs', { body: { data } });
    await waitForEnd(h, succeeded.body.id);
    const nothing = await pilotage(['runs', 'retry', succeeded.body.id], env);
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /nothing failed to rerun/);

    const gate = join(h.dir, 'gate-cancel');
    const running = await h.call('POST', '/v1/workflows/counter/runs', { body: { data: { count: 1, gate } } });
    await waitForRun(h, running.body.id, (d) => d.actions[0].state === 'running');
    const cancel = await pilotage(['runs', 'cancel', running.body.id], env);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stdout, /cancelling counter #\d+/);
    assert.equal((await waitForEnd(h, running.body.id)).run.state, 'cancelled');

    // without a server, cancel works on the local store (here the server's own): the run ended
    const localCancel = await pilotage(['runs', 'cancel', running.body.id], { PILOTAGE_DATA_DIR: h.dir });
    assert.equal(localCancel.code, 1);
    assert.match(localCancel.stderr, /has already ended \(cancelled\)/);
  });
});
