import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { openStore } from '../src/store/open-store.js';
import type { OutboxRecord } from '../src/store/types.js';

/**
 * Issue 12 item 7: a run's events stay whole when another process finishes it. `pilotage run`
 * (a real child process on a real SQLite file) is killed with SIGKILL in the middle of its run;
 * `pilotage serve` on the same store takes the run over and finishes it. The outbox must read
 * as one chain: one `source` and one URL base from the first event to the last, PATH links
 * from each run event to the one before, task-run events linked to their run's `started`
 * (PARENT) and `taskrun.finished` to its `taskrun.started` (PATH), and the run's `finished`
 * with its PATH and END links (CDEvents links spec).
 */

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cliMain = join(root, 'packages/engine/src/cli/main.ts');
const children = new Set<ChildProcess>();

function pilotage(args: string[], env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', cliMain, ...args], {
    cwd: root,
    env: { ...process.env, PILOTAGE_SERVER: '', PILOTAGE_TOKEN: '', PILOTAGE_EVENT_SINKS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  children.add(child);
  child.once('exit', () => children.delete(child));
  return { child, output: () => out };
}

/** `check`'s first defined answer, polled every 50 ms for at most `timeoutMs`. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

after(() => {
  for (const child of children) child.kill('SIGKILL');
});

interface Link {
  linkType: string;
  linkKind?: string;
  from?: { contextId: string };
  target?: { contextId: string };
}
interface Doc {
  context: { id: string; source: string; type: string; links?: Link[] };
  subject: { id: string; source: string; content: Record<string, unknown> };
}

const doc = (e: OutboxRecord): Doc => e.payload as unknown as Doc;
const kind = (e: OutboxRecord): string => /^dev\.cdevents\.(\w+\.\w+)\./.exec(e.type)![1]!;

/** Every absolute URL in a JSON value. */
function urls(value: unknown): string[] {
  if (typeof value === 'string') return /^https?:\/\//.test(value) ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(urls);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(urls);
  return [];
}

/**
 * `pilotage run` a four-action workflow on a fresh SQLite file, SIGKILL it while its second stage
 * runs, let `finish` end the run from another process, and check the run's events form one chain.
 */
async function killThenFinish(
  finish: (db: string, env: Record<string, string>, runId: string) => Promise<string>,
  expectedState: string,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-recovered-links-'));
  try {
    const db = join(dir, 'pilotage.db');
    const env = { PILOTAGE_DATA_DIR: join(dir, 'data') };
    const workflow = join(dir, 'long.yaml');
    await writeFile(
      workflow,
      [
        'apiVersion: pilotage.dev/v1',
        'kind: Workflow',
        'name: long',
        'stages:',
        '  - name: first',
        '    actions:',
        '      - { name: a, run: "true" }',
        '      - { name: b, run: "true" }',
        '  - name: second',
        '    actions:',
        '      - { name: slow, run: "sleep 2", retries: 1 }',
        '  - name: third',
        '    actions:',
        '      - { name: c, run: "true" }',
        '',
      ].join('\n'),
    );
    const store = await openStore({ url: db });
    try {
      const run = pilotage(['run', workflow, '--db', db, '--plain'], env);
      const runId = await waitFor(
        '`slow` to be running',
        async () => {
          const [r] = await store.runs.list({ limit: 1 });
          if (r === undefined) return undefined;
          const tasks = await store.taskRuns.listByRun(r.id);
          return tasks.some((t) => t.action === 'slow' && t.state === 'running') ? r.id : undefined;
        },
        60_000,
      );
      run.child.kill('SIGKILL');
      await new Promise((resolve) => run.child.once('exit', resolve));

      const output = await finish(db, env, runId);
      const ended = await store.runs.get(runId);
      assert.equal(ended?.state, expectedState, output);
      assertOneChain(await store.outbox.listByRun(runId));
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A run's events as one chain: one source and URL base, and every link in place. */
function assertOneChain(events: readonly OutboxRecord[]): void {
  const byId = new Map(events.map((e) => [doc(e).context.id, e]));
  const kinds = events.map(kind);
  assert.equal(kinds[0], 'pipelinerun.queued');
  assert.equal(kinds.at(-1), 'pipelinerun.finished');
  assert.equal(kinds.filter((k) => k === 'pipelinerun.started').length, 1, kinds.join(' '));

  // One source and one URL base for the whole run, whichever process wrote the event.
  const source = doc(events[0]!).context.source;
  const base = source.slice(0, source.indexOf('/workflows/'));
  for (const e of events) {
    assert.equal(doc(e).context.source, source, `${e.type} ${doc(e).context.id}: source`);
    for (const url of urls(e.payload)) assert.ok(url.startsWith(`${base}/`), `${e.type}: ${url} under ${base}`);
  }

  const started = events.find((e) => kind(e) === 'pipelinerun.started')!;
  const startedId = doc(started).context.id;
  const linksOf = (e: OutboxRecord): Link[] => doc(e).context.links ?? [];
  assert.deepEqual(linksOf(started), [{ linkType: 'PATH', from: { contextId: doc(events[0]!).context.id } }]);
  const finished = events.at(-1)!;
  assert.deepEqual(linksOf(finished), [
    { linkType: 'PATH', from: { contextId: startedId } },
    { linkType: 'END', from: { contextId: startedId } },
  ]);
  const taskStarted = new Map<string, string>();
  for (const e of events) {
    if (kind(e) === 'taskrun.started') {
      assert.deepEqual(
        linksOf(e),
        [{ linkType: 'RELATION', linkKind: 'PARENT', target: { contextId: startedId } }],
        `taskrun.started of ${doc(e).subject.id}`,
      );
      taskStarted.set(doc(e).subject.id, doc(e).context.id);
    }
    if (kind(e) === 'taskrun.finished') {
      const from = taskStarted.get(doc(e).subject.id);
      assert.ok(from !== undefined, `taskrun.finished of ${doc(e).subject.id} follows its started event`);
      assert.deepEqual(
        linksOf(e),
        [{ linkType: 'PATH', from: { contextId: from } }],
        `taskrun.finished of ${doc(e).subject.id}`,
      );
    }
  }
  // Every link points at an event of the run.
  for (const e of events) {
    for (const link of linksOf(e)) {
      const to = link.from?.contextId ?? link.target?.contextId;
      if (to !== undefined) assert.ok(byId.has(to), `${e.type} links to ${to}, an event of the run`);
    }
  }
}

test('a run killed with SIGKILL under `pilotage run` and finished by `pilotage serve` keeps one chain of events', async () => {
  await killThenFinish(async (db, env, runId) => {
    const serve = pilotage(['serve', '--db', db, '--port', '0'], env);
    const store = await openStore({ url: db });
    try {
      await waitFor(
        'serve to finish the run',
        async () => {
          const r = await store.runs.get(runId);
          return r !== undefined && ['succeeded', 'failed', 'errored'].includes(r.state) ? r : undefined;
        },
        90_000,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${serve.output()}`);
      });
    } finally {
      await store.close();
      serve.child.kill('SIGTERM');
      await new Promise((resolve) => serve.child.once('exit', resolve));
    }
    return serve.output();
  }, 'succeeded');
});

test('a run killed with SIGKILL under `pilotage run` and ended by a later `runs list` keeps one chain of events', async () => {
  await killThenFinish(async (db, env) => {
    const listed = pilotage(['runs', 'list', '--db', db, '--json'], env);
    await new Promise((resolve) => listed.child.once('exit', resolve));
    return listed.output();
  }, 'errored');
});
