import dagre from '@dagrejs/dagre';

/**
 * The layout of a workflow graph: stages as columns (lanes) left to right, the actions of a
 * stage stacked in the lane in plan order. Pure: the run view and the editor draw the same
 * layout. Stage kinds it does not know (later workflow constructs) are laid out as any other.
 */

/** A stage as the graph needs it. */
export interface LaneStage {
  readonly name: string;
  /** `actions`, `approval`, or a kind this UI does not know yet */
  readonly type: string;
  /** a finally stage: it runs after the others, however they ended */
  readonly finally?: boolean;
  readonly actions: readonly LaneAction[];
}

export interface LaneAction {
  readonly name: string;
  /** earlier actions whose outputs it reads */
  readonly needs?: readonly string[];
}

/** Sizes, px. */
export const LANE = {
  width: 260,
  header: 56,
  padding: 12,
  gap: 8,
  nodeHeight: 66,
  compactHeight: 34,
  /** more actions than this in one stage: compact nodes */
  compactFrom: 20,
  /** space between lanes */
  rankSep: 56,
  /** height of an empty lane's drop area */
  emptyHeight: 84,
} as const;

/** A positioned lane and its actions. */
export interface LaidLane {
  readonly id: string;
  readonly stage: LaneStage;
  readonly index: number;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly actions: readonly { readonly id: string; readonly action: LaneAction; readonly y: number }[];
}

export interface Layout {
  readonly lanes: readonly LaidLane[];
  /** node height of every action (compact for wide stages) */
  readonly nodeHeight: number;
  readonly compact: boolean;
  readonly width: number;
  readonly height: number;
  /** data edges: `needs` links between actions, when few enough to stay readable */
  readonly needs: readonly { readonly from: string; readonly to: string }[];
}

export const laneId = (stage: string): string => `stage:${stage}`;
export const actionId = (action: string): string => `action:${action}`;

/** Most `needs` edges drawn; past this they would only be noise. */
const MAX_NEEDS_EDGES = 200;

/** Lay out `stages`: lane x positions from dagre (a chain, left to right), lanes top-aligned. */
export function layoutLanes(stages: readonly LaneStage[]): Layout {
  const widest = Math.max(0, ...stages.map((s) => s.actions.length));
  const compact = widest > LANE.compactFrom;
  const nodeHeight = compact ? LANE.compactHeight : LANE.nodeHeight;
  const heightOf = (stage: LaneStage): number =>
    stage.actions.length === 0
      ? LANE.header + LANE.emptyHeight
      : LANE.header + stage.actions.length * (nodeHeight + LANE.gap) - LANE.gap + LANE.padding;

  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', ranksep: LANE.rankSep, nodesep: 24, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  stages.forEach((stage, i) => {
    g.setNode(String(i), { width: LANE.width, height: heightOf(stage) });
    if (i > 0) g.setEdge(String(i - 1), String(i));
  });
  dagre.layout(g);

  const lanes = stages.map((stage, index): LaidLane => {
    const node = g.node(String(index)) as { x: number; width: number } | undefined;
    const x = (node?.x ?? index * (LANE.width + LANE.rankSep) + LANE.width / 2) - LANE.width / 2;
    return {
      id: laneId(stage.name),
      stage,
      index,
      x,
      y: 0,
      width: LANE.width,
      height: heightOf(stage),
      actions: stage.actions.map((action, i) => ({
        id: actionId(action.name),
        action,
        y: LANE.header + i * (nodeHeight + LANE.gap),
      })),
    };
  });
  const known = new Set(stages.flatMap((s) => s.actions.map((a) => a.name)));
  const needs = stages
    .flatMap((s) => s.actions.flatMap((a) => (a.needs ?? []).map((n) => ({ from: n, to: a.name }))))
    .filter((e) => known.has(e.from))
    .map((e) => ({ from: actionId(e.from), to: actionId(e.to) }));
  const last = lanes.at(-1);
  return {
    lanes,
    nodeHeight,
    compact,
    width: last === undefined ? 0 : last.x + last.width,
    height: Math.max(0, ...lanes.map((l) => l.height)),
    needs: needs.length > MAX_NEEDS_EDGES ? [] : needs,
  };
}

/**
 * Where arrow keys go from each action: up and down within its lane, left and right to the
 * action at the same row (or the last) of the neighbouring lane.
 */
export function arrowTargets(layout: Layout): Map<string, Partial<Record<'up' | 'down' | 'left' | 'right', string>>> {
  const out = new Map<string, Partial<Record<'up' | 'down' | 'left' | 'right', string>>>();
  layout.lanes.forEach((lane, li) => {
    lane.actions.forEach((a, ai) => {
      const side = (l: LaidLane | undefined) =>
        l && l.actions.length > 0 ? l.actions[Math.min(ai, l.actions.length - 1)]!.id : undefined;
      const targets: Partial<Record<'up' | 'down' | 'left' | 'right', string>> = {};
      if (ai > 0) targets.up = lane.actions[ai - 1]!.id;
      if (ai < lane.actions.length - 1) targets.down = lane.actions[ai + 1]!.id;
      const left = side(
        layout.lanes
          .slice(0, li)
          .reverse()
          .find((l) => l.actions.length > 0),
      );
      const right = side(layout.lanes.slice(li + 1).find((l) => l.actions.length > 0));
      if (left) targets.left = left;
      if (right) targets.right = right;
      out.set(a.id, targets);
    });
  });
  return out;
}
