import type { RunInfo, TaskRunInfo } from '@pilotage/api';
import { describe, expect, test } from 'vitest';
import { LogLines, visibleRange } from './log-lines';
import { foldRunEvent, graphStages, LIVE_STATUSES, stageState, waitingApproval, type RunModel } from './run-model';

const run = (state: RunInfo['state']): RunInfo => ({
  id: 'r1',
  number: 1,
  workflow: 'w',
  workflowVersion: '1',
  state,
  inputs: {},
  trigger: { kind: 'manual' },
  chainId: 'c',
  reason: null,
  owner: null,
  outputs: null,
  parent: null,
  concurrencyGroup: null,
  createdAt: 1,
  startedAt: null,
  endedAt: null,
});
const task = (id: string, action: string, state: TaskRunInfo['state'], attempt = 1): TaskRunInfo => ({
  id,
  runId: 'r1',
  stage: 's',
  action,
  attempt,
  state,
  component: 'c@1.0.0',
  executor: 'local',
  eventData: {},
  output: {},
  result: null,
  message: null,
  reason: null,
  exitCode: null,
  ref: null,
  facts: {},
  steps: {},
  matrix: null,
  childRunId: null,
  statusCount: 0,
  dropped: { statuses: 0, logLines: 0, logBytes: 0 },
  createdAt: 1,
  startedAt: null,
  endedAt: null,
});

describe('the live run model', () => {
  const snapshot = foldRunEvent(undefined, {
    event: 'snapshot',
    data: {
      run: run('running'),
      stages: [{ name: 's', type: 'actions', finally: false, actions: [{ name: 'a', matrix: false, uses: null }] }],
      tasks: [task('t1', 'a', 'running')],
    },
  }) as RunModel;

  test('events move tasks and the run forward, never back', () => {
    let m = foldRunEvent(snapshot, { event: 'task', data: { task: task('t1', 'a', 'succeeded') } })!;
    expect(m.tasks.get('t1')!.state).toBe('succeeded');
    m = foldRunEvent(m, { event: 'task', data: { task: task('t1', 'a', 'running') } })!;
    expect(m.tasks.get('t1')!.state).toBe('succeeded');
    m = foldRunEvent(m, { event: 'end', data: { run: run('succeeded') } })!;
    m = foldRunEvent(m, { event: 'run', data: { run: run('running') } })!;
    expect(m.run.state).toBe('succeeded');
  });

  const status = (seq: number) => ({ seq, at: seq, message: `m${seq}`, progress: null, output: null });

  test('statuses are kept once each, in seq order', () => {
    let m = foldRunEvent(snapshot, { event: 'status', data: { task: task('t1', 'a', 'running'), status: status(2) } })!;
    m = foldRunEvent(m, { event: 'status', data: { task: task('t1', 'a', 'running'), status: status(1) } })!;
    m = foldRunEvent(m, { event: 'status', data: { task: task('t1', 'a', 'running'), status: status(2) } })!;
    expect(m.statuses.get('t1')!.map((s) => s.seq)).toEqual([1, 2]);
  });

  test('a chatty task keeps only its latest live statuses (older ones page in from the API)', () => {
    let m = snapshot;
    for (let seq = 1; seq <= LIVE_STATUSES + 50; seq++) {
      m = foldRunEvent(m, { event: 'status', data: { task: task('t1', 'a', 'running'), status: status(seq) } })!;
    }
    const seqs = m.statuses.get('t1')!.map((s) => s.seq);
    expect(seqs.length).toBe(LIVE_STATUSES);
    expect([seqs[0], seqs.at(-1)]).toEqual([51, LIVE_STATUSES + 50]);
  });

  test('counts only grow: a live task event with older counts than the detail keeps the larger', () => {
    const counted = {
      ...task('t1', 'a', 'running'),
      statusCount: 60,
      dropped: { statuses: 40, logLines: 2, logBytes: 9 },
    };
    let m = foldRunEvent(snapshot, { event: 'task', data: { task: counted } })!;
    m = foldRunEvent(m, { event: 'task', data: { task: task('t1', 'a', 'succeeded') } })!;
    const t1 = m.tasks.get('t1')!;
    expect([t1.state, t1.statusCount, t1.dropped]).toEqual([
      'succeeded',
      60,
      { statuses: 40, logLines: 2, logBytes: 9 },
    ]);
  });

  test('a running approval stage is waiting; stage states summarise their actions', () => {
    const gate = foldRunEvent(undefined, {
      event: 'snapshot',
      data: {
        run: run('running'),
        stages: [
          { name: 'ok', type: 'approval', finally: false, actions: [{ name: 'ok', matrix: false, uses: null }] },
        ],
        tasks: [task('g', 'ok', 'running')],
      },
    })!;
    expect(waitingApproval(gate)?.stage).toBe('ok');
    expect(stageState([undefined, undefined])).toBeUndefined();
    expect(stageState(['succeeded', 'running'])).toBe('running');
    expect(stageState(['succeeded', 'failed'])).toBe('failed');
    expect(stageState(['succeeded', 'skipped'])).toBe('succeeded');
  });
});

describe('the run graph', () => {
  const action = (name: string, extra: object = {}) => ({ name, matrix: false, uses: null, ...extra });
  const stages = [
    {
      name: 'build',
      type: 'actions' as const,
      finally: false,
      actions: [action('build', { matrix: true, component: 'c@1.0.0' })],
    },
    {
      name: 'ship',
      type: 'actions' as const,
      finally: false,
      actions: [
        action('ship', { needs: ['build'], component: 'c@1.0.0' }),
        action('deploy', { uses: 'deploy@latest', component: 'workflow:deploy@1' }),
      ],
    },
    { name: 'cleanup', type: 'actions' as const, finally: true, actions: [action('tidy')] },
  ];
  const combination = (id: string, name: string, index: number, os: string): TaskRunInfo => ({
    ...task(id, name, 'running'),
    matrix: { action: 'build', index, values: { os } },
  });
  const at = (tasks: TaskRunInfo[]) =>
    foldRunEvent(undefined, { event: 'snapshot', data: { run: run('running'), stages, tasks } })!;

  test('a matrix action is one planned node, then one node per combination in expansion order', () => {
    const before = graphStages(at([]));
    expect(before.stages[0]!.actions.map((a) => a.name)).toEqual(['build']);
    expect(before.nodes.get('build')).toEqual({ component: 'c@1.0.0', matrixOf: 'build' });
    const during = graphStages(
      at([
        combination('t2', 'build (mac)', 1, 'mac'),
        combination('t1', 'build (linux)', 0, 'linux'),
        { ...combination('t3', 'build (linux)', 0, 'linux'), attempt: 2 },
      ]),
    );
    expect(during.stages[0]!.actions.map((a) => a.name)).toEqual(['build (linux)', 'build (mac)']);
    expect(during.nodes.get('build (mac)')).toEqual({ component: 'c@1.0.0', matrixOf: 'build', values: { os: 'mac' } });
    // what reads the matrix action reads all its combinations
    expect(during.stages[1]!.actions[0]!.needs).toEqual(['build (linux)', 'build (mac)']);
  });

  test('a called workflow and a finally stage are marked', () => {
    const { stages: drawn, nodes } = graphStages(at([]));
    expect(nodes.get('deploy')).toEqual({ uses: 'deploy@latest' });
    expect(drawn.map((s) => s.finally)).toEqual([false, false, true]);
  });
});

describe('log lines', () => {
  test('lines arrive once, in order; search finds them; the visible window is bounded', () => {
    const log = new LogLines();
    const line = (seq: number, text: string) => ({ seq, at: seq, stream: 'stdout' as const, line: text });
    expect(log.add([line(1, 'alpha'), line(2, 'Beta')])).toBe(2);
    expect(log.add([line(2, 'Beta'), line(3, 'gamma beta')])).toBe(1);
    expect(log.search('beta')).toEqual([1, 2]);
    expect(log.lastSeq).toBe(3);
    const big = new LogLines();
    big.add(Array.from({ length: 100_000 }, (_, i) => line(i + 1, `line ${i}`)));
    expect(big.lines.length).toBe(100_000);
    const { start, end } = visibleRange(50_000 * 18, 600, 18, big.lines.length);
    expect(end - start).toBeLessThan(100);
  });
});
