import { formatDurationMs } from '../../domain/duration.js';
import type { RunRecord, StatusRecord, TaskRunRecord } from '../../store/types.js';
import { lookOf, type Look } from '../terminal.js';

/** A run as the view needs it: a store record, or the API's (which has no plan). */
export type ViewRun = Omit<RunRecord, 'plan'>;

/** A task run as the view needs it: a store record, or the API's (which has no token hash). */
export type ViewTask = Omit<TaskRunRecord, 'tokenHash'>;

/** What the view draws: the workflow's name and its stages' actions, in order (a Plan fits). */
export interface RunOutline {
  readonly name: string;
  readonly stages: readonly {
    readonly name: string;
    readonly type: 'actions' | 'approval';
    readonly actions: readonly { readonly name: string }[];
  }[];
}

/**
 * An update the view folds in: the engine's own (`EngineUpdate` fits), or one rebuilt from the
 * server's SSE events (`pilotage run --server`).
 */
export type ViewUpdate =
  | { readonly kind: 'run'; readonly run: ViewRun }
  | { readonly kind: 'task'; readonly task: ViewTask }
  | { readonly kind: 'status'; readonly task: ViewTask; readonly status: Omit<StatusRecord, 'taskRunId'> }
  | { readonly kind: 'log' }
  | {
      readonly kind: 'refused';
      readonly step: string;
      readonly status: number;
      readonly code: string;
      readonly message: string;
    };

/** How the view draws: its glyphs (Unicode or ASCII) and colours. */
export type Drawing = Pick<Look, 'glyphs' | 'paint'>;

/** Unicode glyphs, no colour: the default (tests). */
const PLAIN: Drawing = lookOf({ color: false, ascii: false, redraw: false });

/**
 * The state of one run as the terminal shows it, folded from engine updates. Pure: `apply`
 * returns the lines the plain (non-TTY) mode prints; `tree` draws the live view. `drawing` gives
 * the glyphs and colours (cli/terminal.ts `look()` for the terminal at hand).
 */
export class RunView {
  run: ViewRun | undefined;
  private readonly tasks = new Map<string, ViewTask>();

  constructor(
    private readonly plan: RunOutline,
    private readonly drawing: Drawing = PLAIN,
  ) {}

  /** Fold an update in; returns the plain-mode lines it produces (none for logs). */
  apply(update: ViewUpdate): string[] {
    switch (update.kind) {
      case 'run': {
        const before = this.run?.state;
        this.run = update.run;
        if (before === update.run.state) return [];
        const reason = update.run.reason ? ` (${update.run.reason})` : '';
        return [`run ${update.run.workflow} #${update.run.number} ${this.stateWord(update.run.state)}${reason}`];
      }
      case 'task': {
        const previous = this.latest(update.task.action);
        if (previous && previous.attempt > update.task.attempt) return [];
        this.tasks.set(update.task.action, update.task);
        if (previous?.id === update.task.id && previous.state === update.task.state) return [];
        const line = `${this.label(update.task)} ${this.stateWord(update.task.state)}${detail(update.task)}`;
        const { warning } = update.task.facts;
        return update.task.state === 'running' && warning
          ? [line, `${this.label(update.task)} warning: ${warning}`]
          : [line];
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
  latest(action: string): ViewTask | undefined {
    return this.tasks.get(action);
  }

  /** The live tree: run line, then each stage with its actions' state, duration and last message. */
  tree(now: number): string {
    const { glyphs, paint } = this.drawing;
    const run = this.run;
    const lines: string[] = [];
    const runElapsed = run?.startedAt ? formatDurationMs((run.endedAt ?? now) - run.startedAt) : '';
    const runState = run?.state ?? 'queued';
    lines.push(
      `${this.icon(runState)} ${paint.bold(this.plan.name)}${run ? ` #${run.number}` : ''}  ${this.stateWord(runState)}  ${runElapsed}`,
    );
    this.plan.stages.forEach((stage, s) => {
      const lastStage = s === this.plan.stages.length - 1;
      lines.push(
        `${lastStage ? glyphs.lastBranch : glyphs.branch} ${stage.name}${stage.type === 'approval' ? ' (approval)' : ''}`,
      );
      const actions = stage.type === 'approval' ? [{ name: stage.name }] : stage.actions;
      actions.forEach((action, a) => {
        const task = this.tasks.get(action.name);
        const state = task?.state ?? 'pending';
        const elapsed = task?.startedAt ? formatDurationMs((task.endedAt ?? now) - task.startedAt) : '';
        const attempt = task && task.attempt > 1 ? ` (attempt ${task.attempt})` : '';
        const note = task?.reason ?? task?.message ?? '';
        const branch = a === actions.length - 1 ? glyphs.lastBranch : glyphs.branch;
        const noteText = note ? `  ${paint.dim(truncate(note, 60, glyphs.ellipsis))}` : '';
        lines.push(
          `${lastStage ? '   ' : `${glyphs.pipe}  `}${branch} ${this.icon(state)} ${action.name}  ${this.stateWord(state)}${attempt}  ${elapsed}${noteText}`,
        );
      });
    });
    return lines.join('\n');
  }

  private icon(state: string): string {
    return this.drawing.paint.state(state, this.drawing.glyphs.state[state] ?? '?');
  }

  private stateWord(state: string): string {
    return this.drawing.paint.state(state, state);
  }

  private label(task: ViewTask): string {
    return `${task.stage}/${task.action}${task.attempt > 1 ? `#${task.attempt}` : ''}`;
  }
}

function detail(task: ViewTask): string {
  if (task.state === 'running' || task.state === 'starting' || task.state === 'pending') return '';
  const parts: string[] = [];
  if (task.startedAt && task.endedAt) parts.push(formatDurationMs(task.endedAt - task.startedAt));
  if (task.reason) parts.push(task.reason);
  else if (task.message) parts.push(task.message);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function truncate(text: string, max: number, ellipsis: string): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > max ? `${oneLine.slice(0, max - ellipsis.length)}${ellipsis}` : oneLine;
}
