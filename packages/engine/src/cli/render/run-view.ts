import { formatDurationMs } from '../../domain/duration.js';
import type { RunInfo, StatusInfo, TaskRunInfo } from '@pilotage/api';
import type { OutlineStage } from '../../plan/outline.js';
import { lookOf, type Look } from '../terminal.js';
import { APPROVAL_COMPONENT } from '../../domain/vocabulary.js';

/** A run as the view needs it: the API's (a store record fits). */
export type ViewRun = RunInfo;

/** A task run as the view needs it: the API's (a store record fits: it has no `childRunId`). */
export type ViewTask = Omit<TaskRunInfo, 'childRunId'> & { readonly childRunId?: string | null };

/** What the view draws: the workflow's name and its stages' actions, in order (see `planOutline`). */
export interface RunOutline {
  readonly name: string;
  readonly stages: readonly OutlineStage[];
}

/**
 * An update the view folds in: the engine's own (`EngineUpdate` fits), or one rebuilt from the
 * server's SSE events (`pilotage run --server`).
 */
export type ViewUpdate =
  | { readonly kind: 'run'; readonly run: ViewRun }
  | { readonly kind: 'task'; readonly task: ViewTask }
  | { readonly kind: 'status'; readonly task: ViewTask; readonly status: StatusInfo }
  | { readonly kind: 'log' }
  | {
      readonly kind: 'refused';
      readonly step: string;
      readonly status: number;
      readonly code: string;
      readonly message: string;
    };

/**
 * What to say under an approval stage waiting for a decision (how to decide it from another
 * shell: `decideHint`); undefined: nothing.
 */
export type WaitingHint = (task: ViewTask) => string | undefined;

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
  /** runs other than the followed one (child runs of `uses:` actions): id → `workflow #n` */
  private readonly others = new Map<string, string>();

  constructor(
    private readonly plan: RunOutline,
    private readonly drawing: Drawing = PLAIN,
    private readonly waitingHint: WaitingHint = () => undefined,
  ) {}

  /**
   * Fold an update in; returns the plain-mode lines it produces (none for logs). The first run
   * seen is the one followed; updates of other runs (the child runs its actions call) only
   * print, prefixed with `↳ workflow #n`.
   */
  apply(update: ViewUpdate): string[] {
    const other = this.otherRun(update);
    if (other !== undefined) {
      if (update.kind === 'task') {
        const line = `↳ ${other} ${this.label(update.task)} ${this.stateWord(update.task.state)}${detail(update.task)}`;
        const hint = this.hintOf(update.task);
        return hint === undefined ? [line] : [line, `↳ ${other} ${this.label(update.task)} ${hint}`];
      }
      if (update.kind === 'run') {
        const reason = update.run.reason ? ` (${update.run.reason})` : '';
        return [`↳ run ${other} ${this.stateWord(update.run.state)}${reason}`];
      }
      return [];
    }
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
        const hint = this.hintOf(update.task);
        if (hint !== undefined) return [line, `${this.label(update.task)} ${hint}`];
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

  /** `workflow #n` when the update belongs to another run than the followed one. */
  private otherRun(update: ViewUpdate): string | undefined {
    if (update.kind === 'run') {
      if (this.run === undefined || update.run.id === this.run.id) return undefined;
      const label = `${update.run.workflow} #${update.run.number}`;
      this.others.set(update.run.id, label);
      return label;
    }
    if (update.kind !== 'task' && update.kind !== 'status') return undefined;
    if (this.run === undefined || update.task.runId === this.run.id) return undefined;
    return this.others.get(update.task.runId) ?? update.task.runId;
  }

  /** The hint under `task` when it is an approval stage waiting for a decision. */
  private hintOf(task: ViewTask): string | undefined {
    return isWaitingGate(task) ? this.waitingHint(task) : undefined;
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
      const kind = stage.type === 'approval' ? ' (approval)' : stage.finally ? ' (finally)' : '';
      lines.push(`${lastStage ? glyphs.lastBranch : glyphs.branch} ${stage.name}${kind}`);
      const indent = lastStage ? '   ' : `${glyphs.pipe}  `;
      stage.actions.forEach((action, a) => {
        const lastAction = a === stage.actions.length - 1;
        const children = action.matrix ? this.combinations(action.name) : [];
        const own = this.tasks.get(action.name);
        const state = own?.state ?? (children.length > 0 ? wholeState(children) : 'pending');
        const count = children.length > 0 ? `  ${children.length} combinations` : '';
        const branch = lastAction ? glyphs.lastBranch : glyphs.branch;
        lines.push(`${indent}${branch} ${this.taskLine(action.name, state, own, now)}${count}`);
        const under = `${indent}${lastAction ? '   ' : `${glyphs.pipe}  `}`;
        const shown = children.slice(0, MAX_COMBINATIONS_SHOWN);
        shown.forEach((child, c) => {
          const lastChild = c === shown.length - 1 && children.length <= shown.length;
          lines.push(
            `${under}${lastChild ? glyphs.lastBranch : glyphs.branch} ${this.taskLine(child.action, child.state, child, now)}`,
          );
        });
        if (children.length > shown.length) {
          lines.push(`${under}${glyphs.lastBranch} ${glyphs.ellipsis} ${children.length - shown.length} more`);
        }
      });
    });
    for (const task of this.tasks.values()) {
      const hint = this.hintOf(task);
      if (hint !== undefined) lines.push(`${paint.bold(task.stage)} ${hint}`);
    }
    return lines.join('\n');
  }

  /** The latest task runs of the combinations of matrix action `action`, in combination order. */
  private combinations(action: string): ViewTask[] {
    return [...this.tasks.values()]
      .filter((task) => task.matrix?.action === action)
      .sort((a, b) => (a.matrix?.index ?? 0) - (b.matrix?.index ?? 0));
  }

  /** One action's (or combination's) line: icon, name, state, attempt, elapsed time, last note. */
  private taskLine(name: string, state: string, task: ViewTask | undefined, now: number): string {
    const { glyphs, paint } = this.drawing;
    const elapsed = task?.startedAt ? formatDurationMs((task.endedAt ?? now) - task.startedAt) : '';
    const attempt = task && task.attempt > 1 ? ` (attempt ${task.attempt})` : '';
    const note = task?.reason ?? task?.message ?? '';
    const noteText = note ? `  ${paint.dim(truncate(note, 60, glyphs.ellipsis))}` : '';
    return `${this.icon(state)} ${name}  ${this.stateWord(state)}${attempt}  ${elapsed}${noteText}`;
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

/** Whether `task` is an approval stage waiting for a decision. */
export function isWaitingGate(task: Pick<ViewTask, 'component' | 'state' | 'result'>): boolean {
  return task.component === APPROVAL_COMPONENT && task.state === 'running' && task.result === null;
}

/** Combinations listed under a matrix action in the live tree; the rest are counted. */
const MAX_COMBINATIONS_SHOWN = 8;

/** The state a matrix action shows while its combinations run: the most telling one. */
function wholeState(children: readonly ViewTask[]): string {
  const order = ['running', 'starting', 'failed', 'errored', 'cancelled', 'pending', 'succeeded', 'skipped'];
  const states = new Set<string>(children.map((c) => c.state));
  return order.find((state) => states.has(state)) ?? 'pending';
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
