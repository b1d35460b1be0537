// Child process of store-sqlite-processes.test.ts: open the store at argv[2] and create argv[3]
// runs of workflow `shared`, each with a 50-line log append, as fast as it can.
import { openStore } from '../../src/store/open-store.js';
import { newRun, newTaskRun } from './fixtures.js';

const [url, countText] = process.argv.slice(2);
const store = await openStore({ url: url ?? '' });
try {
  for (let i = 0; i < Number(countText); i++) {
    const run = await store.runs.create(newRun('shared'));
    const task = await store.taskRuns.create(newTaskRun(run.id));
    await store.logs.append(
      task.id,
      Array.from({ length: 50 }, (_, n) => ({ at: n, stream: 'stdout' as const, line: `line ${n}` })),
    );
    await store.runs.transition(run.id, ['queued'], 'running', Date.now());
  }
} finally {
  await store.close();
}
