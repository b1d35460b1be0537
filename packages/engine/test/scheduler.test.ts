import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RECORD_RUNNING_AFTER_MS } from '../src/engine/task-attempt.js';
import { createHarness, eventually, type Harness } from './support/harness.js';

/** The scheduler through the local executor: real processes, a real SQLite file. */
describe('scheduler on the local executor', { concurrency: false }, () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ executor: 'local' });
  });
  after(async () => {
    await h?.close();
  });

  test('actions of a stage run in parallel; stages run in order', async () => {
    const { run, byAction } = await h.run(`name: parallel
stages:
  - name: first
    actions:
      - { name: a, run: "sleep 0.6" }
      - { name: b, run: "sleep 0.6" }
      - { name: c, run: "sleep 0.6" }
  - name: second
    actions:
      - { name: d, run: "true" }
`);
    assert.equal(run.state, 'succeeded');
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => byAction.get(n)!);
    const firstEnds = Math.min(a!.endedAt!, b!.endedAt!, c!.endedAt!);
    const lastStarts = Math.max(a!.startedAt!, b!.startedAt!, c!.startedAt!);
    assert.ok(lastStarts < firstEnds, 'the three overlapped in time');
    assert.ok(
      d!.startedAt! >= Math.max(a!.endedAt!, b!.endedAt!, c!.endedAt!),
      'stage two began after stage one ended',
    );
  });

  test('a component that ends at once has its running written with its end; a longer one is running while it runs', async () => {
    const seen = new Map<string, string[]>();
    const off = h.runtime.engine.subscribe((update) => {
      if (update.kind !== 'task') return;
      const states = seen.get(update.task.action) ?? [];
      states.push(update.task.state);
      seen.set(update.task.action, states);
    });
    try {
      const { run, byAction } = await h.run(`name: merged
stages:
  - name: only
    actions:
      - { name: quick, run: "true" }
      - { name: slow, run: "sleep 0.3" }
`);
      assert.equal(run.state, 'succeeded');
      // one write from starting to succeeded: nobody was told of a running quick
      assert.deepEqual(seen.get('quick'), ['starting', 'succeeded']);
      assert.deepEqual(seen.get('slow'), ['starting', 'running', 'succeeded']);
      for (const name of ['quick', 'slow']) {
        const task = byAction.get(name)!;
        const history = await h.runtime.store.transitions.list(task.id);
        assert.deepEqual(
          history.map((x) => x.to),
          ['pending', 'starting', 'running', 'succeeded'],
          `${name}: the history as if each move were written apart`,
        );
        // written with the end: at its start exactly; written apart: when written, just after
        if (name === 'quick') assert.equal(history[2]!.at, task.startedAt, `${name}: running at its start`);
        else assert.ok(Math.abs(history[2]!.at - task.startedAt!) < 100, `${name}: running at its start`);
        assert.ok(history[3]!.at >= task.endedAt!);
        assert.ok(task.startedAt! <= task.endedAt!);
        assert.notEqual(task.ref, null, `${name}: its ref is recorded`);
        const events = (await h.runtime.store.outbox.listByRun(run.id)).filter((e) =>
          JSON.stringify(e.payload).includes(task.id),
        );
        assert.deepEqual(
          events.map((e) => e.type.split('.').slice(2, 4).join('.')),
          ['taskrun.started', 'taskrun.finished'],
          `${name}: its CDEvents, in order`,
        );
      }
    } finally {
      off();
    }
  });

  test('a quick component that calls back is shown running at once, not only with its end', async () => {
    const seen: string[] = [];
    const off = h.runtime.engine.subscribe((update) => {
      if (update.kind === 'task' && update.task.action === 'calls') seen.push(update.task.state);
    });
    try {
      const { byAction } = await h.run(`name: calls-back
stages:
  - name: only
    actions:
      - name: calls
        run: |
          curl -fsS -o /dev/null -H 'Content-Type: application/json' -d '{}' "$CO_COMPONENT_START"
          sleep 0.01
`);
      const task = byAction.get('calls')!;
      assert.equal(task.state, 'succeeded');
      // it ended well within RECORD_RUNNING_AFTER_MS of its start, and was still seen running
      assert.deepEqual(seen, ['starting', 'running', 'succeeded']);
    } finally {
      off();
    }
  });

  test("a component's timeout counts from its start, while its running waits to be written", async () => {
    const { byAction } = await h.run(`name: early-timeout
stages:
  - name: only
    actions:
      - { name: hangs, run: "sleep 30", timeout: 10ms }
`);
    const task = byAction.get('hangs')!;
    assert.match(task.reason ?? '', /timeout/);
    // killed 10 ms after its start, not after the wait for its running write (then 10 ms more)
    const lived = task.endedAt! - task.startedAt!;
    assert.ok(lived < RECORD_RUNNING_AFTER_MS, `ended ${lived} ms after its start`);
    const history = await h.runtime.store.transitions.list(task.id);
    assert.deepEqual(
      history.map((x) => x.to).slice(0, 3),
      ['pending', 'starting', 'running'],
      'its running recorded with its end',
    );
  });

  test('concurrency caps how many actions of a run run at once', async () => {
    const { byAction } = await h.run(`name: capped
concurrency: 1
stages:
  - name: only
    actions:
      - { name: a, run: "sleep 0.3" }
      - { name: b, run: "sleep 0.3" }
`);
    const [a, b] = [byAction.get('a')!, byAction.get('b')!].sort((x, y) => x.startedAt! - y.startedAt!);
    assert.ok(b!.startedAt! >= a!.endedAt!, 'the second started after the first ended');
  });

  test('a place under concurrency frees when the component ends: the next action starts before that end is written', async () => {
    const { run, byAction } = await h.run(`name: handover
concurrency: 1
stages:
  - name: only
    actions:
      - { name: a, run: "true" }
      - { name: b, run: "true" }
`);
    assert.equal(run.state, 'succeeded');
    const [first, second] = [byAction.get('a')!, byAction.get('b')!].sort((x, y) => x.startedAt! - y.startedAt!);
    // the end time is the component's, so the two never overlap in the record
    assert.ok(second!.startedAt! >= first!.endedAt!, 'the second started after the first ended');
    const history = await h.runtime.store.transitions.listForRun(run.id);
    const index = (id: string, to: string) => history.findIndex((t) => t.entityId === id && t.to === to);
    const firstEnd = index(first!.id, 'succeeded');
    const secondStart = index(second!.id, 'starting');
    assert.ok(firstEnd >= 0 && secondStart >= 0, 'both moves are recorded');
    assert.ok(secondStart < firstEnd, "the second was recorded starting before the first's end was written");
  });

  test('if: false skips an action; outputs flow to later stages', async () => {
    const { run, byAction } = await h.run(
      `name: flow
inputs: { type: object, properties: { ref: { type: string, default: main } } }
stages:
  - name: produce
    actions:
      - name: make
        run: echo "[COUT] VERSION=1.2.3"
  - name: consume
    actions:
      - name: use
        with: { version: "\${{ actions.make.outputs.VERSION }}", label: "v\${{ actions.make.outputs.VERSION }}-\${{ inputs.ref }}" }
        run: 'test "$CO_INPUT_VERSION" = 1.2.3 && test "$CO_INPUT_LABEL" = v1.2.3-main'
      - name: release-only
        if: "\${{ inputs.ref == 'release' }}"
        run: "exit 1"
`,
    );
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    assert.equal(byAction.get('use')!.state, 'succeeded', byAction.get('use')!.reason ?? '');
    assert.deepEqual(byAction.get('use')!.eventData, { version: '1.2.3', label: 'v1.2.3-main' });
    const skipped = byAction.get('release-only')!;
    assert.equal(skipped.state, 'skipped');
    assert.match(skipped.reason ?? '', /if:/);
  });

  test('retries create new attempts with backoff, and stop at the first success', async () => {
    const { run, tasks } = await h.run(`name: retry
stages:
  - name: only
    actions:
      - name: flaky
        retries: { limit: 3, backoff: 100ms }
        run: 'test "$CO_ATTEMPT" -ge 3'
`);
    assert.equal(run.state, 'succeeded');
    const attempts = tasks.filter((t) => t.action === 'flaky').sort((a, b) => a.attempt - b.attempt);
    assert.deepEqual(
      attempts.map((t) => [t.attempt, t.state]),
      [
        [1, 'failed'],
        [2, 'failed'],
        [3, 'succeeded'],
      ],
    );
    assert.equal(new Set(attempts.map((t) => t.id)).size, 3, 'each attempt is its own task run');
    assert.ok(attempts[1]!.createdAt - attempts[0]!.endedAt! >= 90, 'waited for the backoff');
  });

  test('a failure fails the stage after its siblings finish, and later stages are skipped', async () => {
    const { run, byAction } = await h.run(`name: failing
stages:
  - name: one
    actions:
      - { name: bad, run: "exit 4" }
      - { name: slow, run: "sleep 0.5" }
  - name: two
    actions:
      - { name: never, run: "true" }
`);
    assert.equal(run.state, 'failed');
    assert.equal(byAction.get('slow')!.state, 'succeeded', 'the sibling finished');
    assert.equal(byAction.get('never')!.state, 'skipped');
  });

  test('failFast cancels the running siblings', async () => {
    const { run, byAction } = await h.run(`name: fail-fast
failFast: true
stages:
  - name: one
    actions:
      - { name: bad, run: "sleep 0.2; exit 4" }
      - { name: slow, run: "sleep 30" }
`);
    assert.equal(run.state, 'failed');
    const slow = byAction.get('slow')!;
    assert.equal(slow.state, 'cancelled');
    assert.ok(slow.endedAt! - slow.startedAt! < 10_000);
    assert.deepEqual(await h.leftovers(run.id), []);
  });

  test('cancel mid-run kills the processes and records cancelled', async () => {
    const started = await h.start(`name: cancel-me
stages:
  - name: one
    actions:
      - { name: long, run: "sleep 300 & sleep 300" }
  - name: two
    actions:
      - { name: after, run: "true" }
`);
    await eventually(
      async () => {
        const tasks = await h.runtime.store.taskRuns.listByRun(started.id);
        return tasks.some((t) => t.state === 'running') ? true : undefined;
      },
      10_000,
      'the action to run',
    );
    await h.runtime.engine.cancelRun(started.id, 'test cancel');
    const run = await h.runtime.engine.waitForRun(started.id);
    assert.equal(run.state, 'cancelled');
    assert.equal(run.reason, 'test cancel');
    const tasks = await h.runtime.store.taskRuns.listByRun(started.id);
    assert.equal(tasks.find((t) => t.action === 'long')!.state, 'cancelled');
    assert.equal(tasks.find((t) => t.action === 'after')!.state, 'cancelled');
    assert.deepEqual(
      await eventually(
        async () => ((await h.leftovers(run.id)).length === 0 ? [] : undefined),
        5000,
        'no process left',
      ),
      [],
    );
    const transitions = await h.runtime.store.transitions.list(run.id);
    assert.deepEqual(
      transitions.map((t) => t.to),
      ['queued', 'running', 'cancelled'],
    );
    assert.ok(transitions.every((t) => t.at > 0));
  });

  test('a run timeout stops the run as failed', async () => {
    const { run } = await h.run(`name: run-timeout
timeout: 500ms
stages:
  - name: one
    actions:
      - { name: long, run: "sleep 30" }
`);
    assert.equal(run.state, 'failed');
    assert.match(run.reason ?? '', /timeout/);
    assert.deepEqual(await h.leftovers(run.id), []);
  });

  test('secrets reach the component but are masked in logs, outputs and messages', async () => {
    const secret = 'sup3r-s3cret-value';
    const plan = await h.plan(`name: secret
stages:
  - name: one
    actions:
      - name: leak
        env: { TOKEN: "\${{ secrets.TOKEN }}" }
        run: 'echo "token is $TOKEN"; echo "[COUT] ECHO=$TOKEN"'
`);
    const started = await h.runtime.engine.startRun(
      plan,
      {},
      { trigger: { kind: 'manual' }, secrets: { TOKEN: secret } },
    );
    const run = await h.runtime.engine.waitForRun(started.id);
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    const [task] = await h.runtime.store.taskRuns.listByRun(run.id);
    const logs = await h.runtime.store.logs.read(task!.id);
    assert.deepEqual(
      logs.map((l) => l.line),
      ['token is ***', '[COUT] ECHO=***'],
    );
    assert.deepEqual(task!.output, { ECHO: '***' });
  });

  test('bad event data for the component errors the task run with the field named', async () => {
    const component = await h.write(
      'typed.component.yaml',
      `apiVersion: pilotage.dev/v1
kind: Component
name: typed
version: 1.0.0
command: ["true"]
inputs: { type: object, required: [count], properties: { count: { type: integer } } }
`,
    );
    const { run, byAction } = await h.run(
      `name: typed
inputs: { type: object, properties: { n: { type: string } } }
stages:
  - name: one
    actions:
      - name: t
        component: ${component}
        with: { count: "\${{ inputs.n }}" }
`,
      { n: 'many' },
    );
    assert.equal(run.state, 'errored');
    const t = byAction.get('t')!;
    assert.equal(t.state, 'errored');
    assert.match(t.reason ?? '', /count/);
  });

  // volumes, resources and kubernetes used to be ignored by the local executor without a word
  test('a task run records a warning fact naming the fields its executor does not honour', async () => {
    const { run, byAction } = await h.runComponent(
      'heavy',
      'apiVersion: pilotage.dev/v1\nkind: Component\nname: heavy\nversion: 1.0.0\ncommand: ["true"]\nresources: { memory: 1Gi }\nvolumes: [ { name: cache, mountPath: /cache } ]\n',
    );
    assert.equal(run.state, 'succeeded');
    assert.equal(
      byAction.get('task')!.facts.warning,
      'the local executor does not honour resources (a local process gets no CPU or memory limits); volumes (a local process sees the host file system, and only the run workspace is prepared)',
    );
  });

  // Node's timers fire at once past 2^31−1 ms: `timeout: 25d` ended an action after 58 ms, and
  // `timeout: 30d` a run after 34 ms
  test('timeouts longer than 24.8 days do not fire early (action, run and approval)', async () => {
    const { run, byAction } = await h.run(`name: long-timeouts
timeout: 30d
stages:
  - name: only
    actions:
      - { name: slow, run: "sleep 0.5", timeout: 25d }
`);
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    assert.equal(byAction.get('slow')!.state, 'succeeded');
    const waiting = await h.start(`name: long-approval
stages:
  - name: gate
    type: approval
    timeout: 25d
`);
    await eventually(async () => {
      const tasks = await h.runtime.store.taskRuns.listByRun(waiting.id);
      return tasks[0]?.state === 'running' ? true : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [gate] = await h.runtime.store.taskRuns.listByRun(waiting.id);
    assert.equal(gate?.state, 'running', 'the approval still waits');
    await h.runtime.engine.cancelRun(waiting.id, 'test over');
  });

  // TASK_STATUS output was checked with the outputs schema's `required`, refusing partial progress
  test('an interim TASK_STATUS output may leave out required fields; the result may not', async () => {
    const script =
      "const post=(u,b)=>fetch(u,{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify(b)}).then(async r=>{if(!r.ok){console.error(await r.text());process.exit(3)}});(async()=>{await post(process.env.CO_COMPONENT_START,{});await post(process.env.CO_TASK_START,{});await post(process.env.CO_TASK_STATUS,{progress:0.5,output:{commit:'abc'}});await post(process.env.CO_TASK_RESULT,{status:'success',output:{commit:'abc',size:3}})})()";
    const component = [
      'apiVersion: pilotage.dev/v1',
      'kind: Component',
      'name: partial',
      'version: 1.0.0',
      `command: ["node", "-e", ${JSON.stringify(script)}]`,
      'outputs: { type: object, required: [commit, size], properties: { commit: { type: string }, size: { type: integer } } }',
    ].join('\n');
    const { run, byAction } = await h.runComponent('partial', component);
    assert.equal(run.state, 'succeeded', byAction.get('task')?.reason ?? '');
    assert.deepEqual(byAction.get('task')!.output, { commit: 'abc', size: 3 });
  });
});
