import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createLocalExecutor } from './local-executor.js';
import { findOrphanGroups, killOrphanGroup, reapOrphanGroups } from './orphans.js';
import { groupAlive, signalGroup } from './process-group.js';
import { currentEngineProcess, formatMark, PROCESS_MARK_ENV } from './process-mark.js';
import type { TaskSpec } from '../executor.js';

const DEAD_ENGINE = '999999999.1';
const engineId = `orphans-test-${process.pid}`;

/** A detached `sh` that starts two sleeps (three processes in one group), with `env`; its pgid. */
function startGroup(env: Record<string, string>): number {
  const child = spawn('sh', ['-c', 'sleep 300 & sleep 300 & wait'], {
    detached: true,
    stdio: 'ignore',
    env: { PATH: process.env.PATH, ...env },
  });
  child.unref();
  return child.pid!;
}

const mark = (engineProcess: string, taskRunId: string, id = engineId) => ({
  [PROCESS_MARK_ENV]: formatMark({ engineId: id, engineProcess, runId: 'R', taskRunId }),
});

/** Wait until the group has its three processes (the shell forked both sleeps). */
async function settled(pgid: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const found = await findOrphanGroups(engineId, async () => false);
    if ((found.find((g) => g.pgid === pgid)?.pids.length ?? 0) >= 3) return;
    await delay(20);
  }
}

describe('orphan process groups (real processes, /proc)', () => {
  const groups: number[] = [];
  after(() => {
    for (const pgid of groups) signalGroup(pgid, 'SIGKILL');
  });

  test('only the groups marked by a dead engine process of this engine id are found and killed', async () => {
    const orphan = startGroup(mark(DEAD_ENGINE, 'T-orphan'));
    const live = startGroup(mark(currentEngineProcess(), 'T-live'));
    const otherEngine = startGroup(mark(DEAD_ENGINE, 'T-other', 'another-engine'));
    const unmarked = startGroup({});
    groups.push(orphan, live, otherEngine, unmarked);
    await settled(orphan);

    const found = await findOrphanGroups(engineId);
    assert.deepEqual(
      found.map((g) => [g.pgid, g.mark.taskRunId, g.mark.engineProcess]),
      [[orphan, 'T-orphan', DEAD_ENGINE]],
    );
    assert.equal(found[0]!.pids.length, 3, 'the shell and its two sleeps carry the mark');

    const reaped = await reapOrphanGroups(engineId, { graceMs: 1000 });
    assert.deepEqual(
      reaped.map((g) => g.pgid),
      [orphan],
    );
    assert.equal(await groupAlive(orphan), false, 'the orphan group is gone');
    for (const pgid of [live, otherEngine, unmarked]) assert.equal(await groupAlive(pgid), true, `${pgid} untouched`);
    assert.deepEqual(await findOrphanGroups(engineId), []);
  });

  test('a group whose marked processes are gone is not signalled on old information', async () => {
    const pgid = startGroup(mark(DEAD_ENGINE, 'T-gone'));
    groups.push(pgid);
    await settled(pgid);
    const [group] = (await findOrphanGroups(engineId)).filter((g) => g.pgid === pgid);
    signalGroup(pgid, 'SIGKILL');
    while (await groupAlive(pgid)) await delay(20);
    await killOrphanGroup(group!, 0); // resolves without signalling anything
  });

  test('the local executor marks its processes; another engine process of the same id lists and destroys them', async () => {
    const workspace = await mkdtemp(join(tmpdir(), 'pilotage-orphan-ws-'));
    try {
      const spec: TaskSpec = {
        runId: 'RUN-1',
        taskRunId: 'TASK-1',
        attempt: 1,
        workflow: 'w',
        stage: 's',
        action: 'a',
        component: {
          name: 'c',
          version: '0.0.0',
          strict: false,
          env: {},
          volumes: [],
          command: ['sh', '-c', 'echo "$PILOTAGE_TASK_MARK"; sleep 300 & sleep 300'],
        },
        env: {},
        workspace: { hostDir: workspace, mountPath: workspace },
        timeoutMs: 60_000,
      };
      // the first engine "dies": its identity is one /proc says is dead
      const first = createLocalExecutor({ engineId, engineProcess: DEAD_ENGINE, killGraceMs: 500 });
      const lines: string[] = [];
      const handle = await first.start(spec, (line) => lines.push(line.line));
      groups.push(Number(handle.ref));
      while (lines.length === 0) await delay(20);
      assert.equal(lines[0], formatMark({ engineId, engineProcess: DEAD_ENGINE, runId: 'RUN-1', taskRunId: 'TASK-1' }));
      assert.deepEqual(await first.list(), [{ ref: handle.ref, runId: 'RUN-1', taskRunId: 'TASK-1', running: true }]);

      const alive = createLocalExecutor({ engineId, engineProcessAlive: async () => true });
      assert.deepEqual(await alive.list(), [], 'the groups of a live engine process are never listed');

      const second = createLocalExecutor({ engineId, killGraceMs: 500 });
      const [found] = await second.list();
      assert.equal(found?.ref, handle.ref);
      assert.equal(await second.attach(found!.ref, () => undefined), undefined, 'an orphan cannot be re-attached');
      await second.destroy(found!.ref);
      assert.equal(await groupAlive(Number(handle.ref)), false, 'destroy resolved once the group was gone');
      assert.equal((await handle.wait()).signal, 'SIGTERM');
      assert.deepEqual(await second.list(), []);
      await second.destroy(found!.ref); // repeatable
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  });
});
