import type { Command } from 'commander';
import { formatDurationMs } from '../../domain/duration.js';
import { NotFoundError } from '../../domain/errors.js';
import { isRunEnded, type RunState } from '../../domain/states.js';
import type { RunRecord, Store, TaskRunRecord } from '../../store/types.js';
import { print } from '../output.js';
import { withStore } from '../with-store.js';

interface Flags {
  db?: string;
  json?: boolean;
}

/** `pilotage runs list|show|logs`: read the local store. */
export function registerRuns(program: Command): void {
  const runs = program.command('runs').description('inspect runs in the store');
  runs
    .command('list')
    .description('recent runs, newest first')
    .option('--workflow <name>', 'only this workflow')
    .option('--state <state>', 'only runs in this state')
    .option('--limit <n>', 'how many', '20')
    .option('--before <id>', 'page: runs older than this id')
    .option('--db <path|url>', 'store')
    .option('--json', 'JSON output')
    .action((flags: Flags & { workflow?: string; state?: RunState; limit: string; before?: string }) =>
      withStore(flags, async (store) => {
        const list = await store.runs.list({
          ...(flags.workflow ? { workflow: flags.workflow } : {}),
          ...(flags.state ? { state: flags.state } : {}),
          ...(flags.before ? { before: flags.before } : {}),
          limit: Number(flags.limit),
        });
        if (flags.json) return print({ runs: list });
        if (list.length === 0) return print('no runs');
        for (const run of list) print(runLine(run));
      }),
    );
  runs
    .command('show')
    .description('a run with every task run, attempt, output and transition')
    .argument('<run-id>')
    .option('--db <path|url>', 'store')
    .option('--json', 'JSON output')
    .action((id: string, flags: Flags) =>
      withStore(flags, async (store) => {
        const run = await mustGetRun(store, id);
        const tasks = await store.taskRuns.listByRun(run.id);
        if (flags.json) {
          const transitions = await store.transitions.list(run.id);
          return print({ run, tasks, transitions });
        }
        print(runLine(run));
        print(
          `  trigger: ${run.trigger.kind}${run.trigger.by ? ` by ${run.trigger.by}` : ''}   inputs: ${JSON.stringify(run.inputs)}`,
        );
        for (const task of tasks) print(taskBlock(task));
      }),
    );
  runs
    .command('logs')
    .description('log lines of a run (all actions, or one), optionally following')
    .argument('<run-id>')
    .option('--action <name>', 'only this action')
    .option('-f, --follow', 'keep printing until the run ends')
    .option('--db <path|url>', 'store')
    .option('--json', 'JSON lines')
    .action((id: string, flags: Flags & { action?: string; follow?: boolean }) =>
      withStore(flags, async (store) => {
        const seen = new Map<string, number>();
        for (;;) {
          const run = await mustGetRun(store, id);
          const tasks = (await store.taskRuns.listByRun(run.id)).filter(
            (t) => !flags.action || t.action === flags.action,
          );
          for (const task of tasks) {
            for (;;) {
              const lines = await store.logs.read(task.id, seen.get(task.id) ?? 0, 1000);
              for (const line of lines) {
                print(
                  flags.json
                    ? { action: task.action, attempt: task.attempt, ...line }
                    : `${task.action}${task.attempt > 1 ? `#${task.attempt}` : ''} │ ${line.line}`,
                );
              }
              if (lines.length === 0) break;
              seen.set(task.id, lines.at(-1)!.seq);
            }
          }
          if (!flags.follow || isRunEnded(run.state)) break;
          await new Promise((r) => setTimeout(r, 300));
        }
      }),
    );
}

async function mustGetRun(store: Store, id: string): Promise<RunRecord> {
  const run = await store.runs.get(id);
  if (!run) throw new NotFoundError(`run ${id} not found in this store (see pilotage runs list)`);
  return run;
}

function runLine(run: RunRecord): string {
  const elapsed = run.startedAt ? formatDurationMs((run.endedAt ?? Date.now()) - run.startedAt) : '-';
  const when = new Date(run.createdAt).toISOString().replace('T', ' ').slice(0, 19);
  return `${run.id}  ${run.workflow} #${run.number}  ${run.state.padEnd(9)}  ${elapsed.padStart(7)}  ${when}${run.reason ? `  ${run.reason}` : ''}`;
}

function taskBlock(task: TaskRunRecord): string {
  const elapsed = task.startedAt && task.endedAt ? formatDurationMs(task.endedAt - task.startedAt) : '';
  const lines = [
    `  ${task.stage}/${task.action} attempt ${task.attempt}: ${task.state} ${elapsed}  [${task.component} on ${task.executor}]`,
  ];
  if (task.reason) lines.push(`    reason: ${task.reason}`);
  if (task.message) lines.push(`    message: ${task.message}`);
  if (task.exitCode !== null) lines.push(`    exit code: ${task.exitCode}`);
  if (Object.keys(task.output).length > 0) lines.push(`    output: ${JSON.stringify(task.output)}`);
  const steps = Object.keys(task.steps);
  if (steps.length > 0) lines.push(`    callbacks: ${steps.join(' → ')}`);
  return lines.join('\n');
}
