import { formatDurationMs } from '../../domain/duration.js';
import type { EngineUpdate } from '../../engine/ports.js';
import type { Plan } from '../../plan/types.js';
import type { RunRecord, TaskRunRecord } from '../../store/types.js';

const ICONS: Record<string, string> = {
  queued: '○',
  pending: '○',
  starting: '◔',
  running: '◑',
  succeeded: '✔',
  failed: '✘',
  errored: '!',
  cancelled: '⊘',
  skipped: '↷',
};

/**
 * The state of one run as the terminal shows it, folded from engine updates. Pure: `apply`
 * returns the lines the plain (non-TTY) mode prints; `tree` draws the live view.
 */
export class RunView {
  run: RunRecord | undefined;
  private readonly tasks = new Map<string, TaskRunRecord>();

  constructor(private readonly plan: Plan) {}

  /** Fold an update in; returns the plain-mode lines it produces (none for logs). */
  apply(update: EngineUpdate): string[] {
    switch (update.kind) {
      case 'run': {
        const before = this.run?.state;
        this.run = update.run;
        if (before === update.run.state) return [];
        const reason = update.run.reason ? ` (${update.run.reason})` : '';
        return [`run ${update.run.workflow} #${update.run.number} ${update.run.state}${reason}`];
      }
      case 'task': {
        const previous = this.latest(update.task.action);
        if (previous && previous.attempt > update.task.attempt) return [];
        this.tasks.set(update.task.action, update.task);
        if (previous?.id === update.task.id && previous.state === update.task.state) return [];
        return [`${this.label(update.task)} ${update.task.state}${detail(update.task)}`];
      }
      case 'status': {
        this.tasks.set(update.task.action, update.task);
        const { status } = update;
        const progress = status.progress === null ? '' : ` ${Math.round(status.progress * 100)}%`;
        return status.message === null && progress === ''
          ? []
          : [`${this.label(update.task)} status${progress}${status.message === null ? '' : `: ${status.message}`}`];
      }
      case 'log':
        return [];
      case 'refused':
        return [`callback ${update.step} refused (${update.status} ${update.code}): ${update.message}`];
    }
  }

  /** The latest task run of an action (highest attempt). */
  latest(action: string): TaskRunRecord | undefined {
    return this.tasks.get(action);
  }

  /** The live tree: run line, then each stage with its actions' state, duration and last message. */
  tree(now: number): string {
    const run = this.run;
    const lines: string[] = [];
    const runElapsed = run?.startedAt ? formatDurationMs((run.endedAt ?? now) - run.startedAt) : '';
    lines.push(
      `${ICONS[run?.state ?? 'queued'] ?? '?'} ${this.plan.name}${run ? ` #${run.number}` : ''}  ${run?.state ?? 'queued'}  ${runElapsed}`,
    );
    this.plan.stages.forEach((stage, s) => {
      const lastStage = s === this.plan.stages.length - 1;
      lines.push(`${lastStage ? '└─' : '├─'} ${stage.name}${stage.type === 'approval' ? ' (approval)' : ''}`);
      const actions = stage.type === 'approval' ? [{ name: stage.name }] : stage.actions;
      actions.forEach((action, a) => {
        const task = this.tasks.get(action.name);
        const state = task?.state ?? 'pending';
        const elapsed = task?.startedAt ? formatDurationMs((task.endedAt ?? now) - task.startedAt) : '';
        const attempt = task && task.attempt > 1 ? ` (attempt ${task.attempt})` : '';
        const note = task?.reason ?? task?.message ?? '';
        const branch = a === actions.length - 1 ? '└─' : '├─';
        lines.push(
          `${lastStage ? '   ' : '│  '}${branch} ${ICONS[state] ?? '?'} ${action.name}  ${state}${attempt}  ${elapsed}${note ? `  ${truncate(note, 60)}` : ''}`,
        );
      });
    });
    return lines.join('\n');
  }

  private label(task: TaskRunRecord): string {
    return `${task.stage}/${task.action}${task.attempt > 1 ? `#${task.attempt}` : ''}`;
  }
}

function detail(task: TaskRunRecord): string {
  if (task.state === 'running' || task.state === 'starting' || task.state === 'pending') return '';
  const parts: string[] = [];
  if (task.startedAt && task.endedAt) parts.push(formatDurationMs(task.endedAt - task.startedAt));
  if (task.reason) parts.push(task.reason);
  else if (task.message) parts.push(task.message);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function truncate(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}
