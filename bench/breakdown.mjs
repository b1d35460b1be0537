/**
 * Where a sequential run's time went, per task, from the times the engine recorded (epoch ms,
 * so each figure is a mean over many tasks of 1 ms-resolution stamps):
 * - `between`: previous task's end to this task's record (scheduling, the stage loop);
 * - `toRunning`: record to `running` (task-run row, contract env, spawn);
 * - `running`: `running` to the end (the process's life, exit, logs, verdict, final row);
 * and, when the component spoke the contract, `running` split into `toFirstCall` (process
 * start-up to COMPONENT_START), `calls` (COMPONENT_START to COMPONENT_STOP) and `toEnd`
 * (COMPONENT_STOP to the recorded end: exit, pipes closing, verdict, final row).
 * @param {readonly { createdAt: number, startedAt: number, endedAt: number, steps: Record<string, number> }[]} tasks
 */
export function sequentialBreakdown(tasks) {
  const mean = (values) => values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);
  const between = tasks.slice(1).map((t, i) => t.createdAt - tasks[i].endedAt);
  const result = {
    between: mean(between),
    toRunning: mean(tasks.map((t) => t.startedAt - t.createdAt)),
    running: mean(tasks.map((t) => t.endedAt - t.startedAt)),
  };
  const spoke = tasks.filter(
    (t) => t.steps['component-start'] !== undefined && t.steps['component-stop'] !== undefined,
  );
  if (spoke.length === 0) return result;
  return {
    ...result,
    toFirstCall: mean(spoke.map((t) => t.steps['component-start'] - t.startedAt)),
    calls: mean(spoke.map((t) => t.steps['component-stop'] - t.steps['component-start'])),
    toEnd: mean(spoke.map((t) => t.endedAt - t.steps['component-stop'])),
  };
}
