import {
  Background,
  Controls,
  Handle,
  Position,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Edge,
  type Node,
  type NodeProps,
} from '@xyflow/react';
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  type DragEvent,
  type ReactNode,
} from 'react';
import { StateIcon } from '../common/ui';
import { actionId, arrowTargets, LANE, layoutLanes, type LaneStage } from './lanes';

/** What a node of the graph shows of an action. */
export interface ActionView {
  /** task run state, or undefined (editor, or not reached) */
  readonly state?: string;
  /** second line: component, duration */
  readonly detail?: string;
  /** right of the second line: attempt badge, duration */
  readonly aside?: string;
  /** latest TASK_STATUS message, or a problem in the editor */
  readonly message?: string;
  /** 0..1 */
  readonly progress?: number;
  /** the editor marks actions whose inputs have problems */
  readonly problem?: boolean;
}

/** What a lane's header shows of a stage. */
export interface LaneView {
  readonly state?: string;
  readonly summary?: string;
}

/** Editing hooks; present in the editor only. */
export interface GraphEditing {
  onDropComponent(stageIndex: number, ref: string): void;
  onMoveStage(index: number, by: -1 | 1): void;
  onRemoveStage(index: number): void;
  onRenameStage(index: number): void;
}

/** MIME type of a component dragged from the catalog: its `name@version`. */
export const COMPONENT_DRAG_TYPE = 'application/x-pilotage-component';

interface GraphContext {
  readonly selected: string | undefined;
  readonly open: (action: string) => void;
  readonly targets: ReturnType<typeof arrowTargets>;
  readonly editing: GraphEditing | undefined;
  readonly stageCount: number;
}
const Context = createContext<GraphContext | undefined>(undefined);

type ActionNodeData = { name: string; view: ActionView; compact: boolean; height: number };
type LaneNodeData = { stage: LaneStage; index: number; view: LaneView };

function focusNode(id: string): void {
  document.querySelector<HTMLElement>(`.react-flow__node[data-id="${CSS.escape(id)}"] .action-node`)?.focus();
}

function ActionNode({ id, data }: NodeProps<Node<ActionNodeData, 'action'>>) {
  const ctx = useContext(Context)!;
  const { view, name, compact } = data;
  const state = view.state ?? 'none';
  return (
    <div
      className={`action-node state-${state}${compact ? ' compact' : ''}${ctx.selected === name ? ' selected' : ''}${view.problem ? ' problem' : ''}`}
      style={{ height: data.height }}
      tabIndex={0}
      role="button"
      aria-pressed={ctx.selected === name}
      aria-label={`action ${name}${view.state ? `, ${view.state}` : ''}${view.message ? `: ${view.message}` : ''}`}
      data-action={name}
      data-state={view.state}
      onKeyDown={(e) => {
        const dir = { ArrowUp: 'up', ArrowDown: 'down', ArrowLeft: 'left', ArrowRight: 'right' }[e.key] as
          'up' | 'down' | 'left' | 'right' | undefined;
        if (dir) {
          e.preventDefault();
          e.stopPropagation();
          const next = ctx.targets.get(id)?.[dir];
          if (next) focusNode(next);
        } else if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          ctx.open(name);
        }
      }}
    >
      <Handle type="target" position={Position.Left} className="data-handle" isConnectable={false} />
      <div className="action-line">
        {view.state && <StateIcon state={view.state} />}
        <span className="action-name" title={name}>
          {name}
        </span>
        {view.aside && <span className="action-aside">{view.aside}</span>}
      </div>
      {!compact && (
        <>
          {view.detail && (
            <div className="action-detail" title={view.detail}>
              {view.detail}
            </div>
          )}
          {view.message && (
            <div className="action-message" title={view.message}>
              {view.message}
            </div>
          )}
        </>
      )}
      {view.progress !== undefined && view.state === 'running' && (
        <div className="progress" aria-label={`progress ${Math.round(view.progress * 100)}%`}>
          <div style={{ width: `${Math.round(Math.max(0, Math.min(1, view.progress)) * 100)}%` }} />
        </div>
      )}
      <Handle type="source" position={Position.Right} className="data-handle" isConnectable={false} />
    </div>
  );
}

function LaneNode({ data }: NodeProps<Node<LaneNodeData, 'lane'>>) {
  const ctx = useContext(Context)!;
  const { stage, index, view } = data;
  const editing = ctx.editing;
  const onDragOver = (e: DragEvent) => {
    if (editing && e.dataTransfer.types.includes(COMPONENT_DRAG_TYPE)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
      (e.currentTarget as HTMLElement).classList.add('drop-target');
    }
  };
  const onDragLeave = (e: DragEvent) => (e.currentTarget as HTMLElement).classList.remove('drop-target');
  const onDrop = (e: DragEvent) => {
    (e.currentTarget as HTMLElement).classList.remove('drop-target');
    const ref = e.dataTransfer.getData(COMPONENT_DRAG_TYPE);
    if (editing && ref) {
      e.preventDefault();
      editing.onDropComponent(index, ref);
    }
  };
  return (
    <div
      className={`lane lane-${stage.type}${stage.finally ? ' lane-finally' : ''}${view.state ? ` state-${view.state}` : ''}`}
      data-stage={stage.name}
      onDragOver={onDragOver}
      onDragLeave={onDragLeave}
      onDrop={onDrop}
    >
      <Handle type="target" position={Position.Left} className="lane-handle" isConnectable={false} />
      <div className="lane-head">
        <div className="lane-title">
          <span className="lane-index">{index + 1}</span>
          <span className="lane-name" title={stage.name}>
            {stage.type === 'approval' ? '‖ ' : ''}
            {stage.name}
          </span>
          {stage.type !== 'actions' && stage.type !== 'approval' && <span className="chip">{stage.type}</span>}
          {stage.finally && (
            <span className="chip" title="runs after the other stages, however they ended">
              finally
            </span>
          )}
        </div>
        {editing ? (
          <div className="lane-tools nodrag">
            <button
              type="button"
              title="Move left"
              disabled={index === 0}
              onClick={() => editing.onMoveStage(index, -1)}
            >
              ←
            </button>
            <button
              type="button"
              title="Move right"
              disabled={index === ctx.stageCount - 1}
              onClick={() => editing.onMoveStage(index, 1)}
            >
              →
            </button>
            <button type="button" title="Rename" onClick={() => editing.onRenameStage(index)}>
              ✎
            </button>
            <button type="button" title="Remove stage" onClick={() => editing.onRemoveStage(index)}>
              ✕
            </button>
          </div>
        ) : (
          view.summary && <div className="lane-summary">{view.summary}</div>
        )}
      </div>
      {stage.actions.length === 0 && (
        <div className="lane-empty">{editing ? 'Drop a component here' : 'No actions'}</div>
      )}
      <Handle type="source" position={Position.Right} className="lane-handle" isConnectable={false} />
    </div>
  );
}

const nodeTypes = { action: ActionNode, lane: LaneNode };

export interface WorkflowGraphProps {
  readonly stages: readonly LaneStage[];
  readonly actionView: (action: string) => ActionView;
  readonly laneView?: (stage: LaneStage) => LaneView;
  readonly selected?: string | undefined;
  readonly onSelect: (action: string) => void;
  readonly editing?: GraphEditing;
  /** shown over the graph's top-left corner */
  readonly overlay?: ReactNode;
}

/**
 * A workflow drawn as lanes of actions (lanes.ts), for the live run view and the editor. Panning
 * by scroll, no dragging of nodes; arrow keys move between actions, Enter opens one. Large
 * graphs render only what is visible and start top-aligned at a readable zoom.
 */
export function WorkflowGraph(props: WorkflowGraphProps) {
  return (
    <ReactFlowProvider>
      <Graph {...props} />
    </ReactFlowProvider>
  );
}

function Graph({ stages, actionView, laneView, selected, onSelect, editing, overlay }: WorkflowGraphProps) {
  const layout = useMemo(() => layoutLanes(stages), [stages]);
  const targets = useMemo(() => arrowTargets(layout), [layout]);
  const nodes = useMemo(() => {
    const out: Node[] = [];
    for (const lane of layout.lanes) {
      out.push({
        id: lane.id,
        type: 'lane',
        position: { x: lane.x, y: lane.y },
        data: { stage: lane.stage, index: lane.index, view: laneView?.(lane.stage) ?? {} },
        // known sizes: React Flow shows a node only once it has dimensions, and nodes rebuilt by
        // live updates would otherwise wait (hidden) for a measurement that never comes again
        width: lane.width,
        height: lane.height,
        style: { width: lane.width, height: lane.height },
        selectable: false,
        focusable: false,
        draggable: false,
      });
      for (const a of lane.actions) {
        out.push({
          id: a.id,
          type: 'action',
          parentId: lane.id,
          extent: 'parent',
          position: { x: LANE.padding, y: a.y },
          data: {
            name: a.action.name,
            view: actionView(a.action.name),
            compact: layout.compact,
            height: layout.nodeHeight,
          },
          width: lane.width - 2 * LANE.padding,
          height: layout.nodeHeight,
          style: { width: lane.width - 2 * LANE.padding },
          draggable: false,
          focusable: false,
        });
      }
    }
    return out;
  }, [layout, actionView, laneView]);
  const edges = useMemo(() => {
    const out: Edge[] = [];
    layout.lanes.slice(1).forEach((lane, i) => {
      out.push({
        id: `flow:${i}`,
        source: layout.lanes[i]!.id,
        target: lane.id,
        type: 'smoothstep',
        className: 'lane-edge',
        selectable: false,
        focusable: false,
      });
    });
    for (const e of layout.needs) {
      out.push({
        id: `needs:${e.from}->${e.to}`,
        source: e.from,
        target: e.to,
        className: `needs-edge${selected && (e.from === actionId(selected) || e.to === actionId(selected)) ? ' active' : ''}`,
        selectable: false,
        focusable: false,
      });
    }
    return out;
  }, [layout, selected]);

  const ctx = useMemo<GraphContext>(
    () => ({ selected, open: onSelect, targets, editing, stageCount: stages.length }),
    [selected, onSelect, targets, editing, stages.length],
  );
  return (
    <Context.Provider value={ctx}>
      <div className="graph" data-compact={layout.compact}>
        <ReactFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable={false}
          panOnScroll
          zoomOnScroll={false}
          zoomOnPinch
          zoomOnDoubleClick={false}
          minZoom={0.15}
          maxZoom={1.5}
          onlyRenderVisibleElements={nodes.length > 150}
          onNodeClick={(_event, node) => {
            if (node.type === 'action') onSelect((node.data as ActionNodeData).name);
          }}
          proOptions={{ hideAttribution: true }}
        >
          <InitialView width={layout.width} height={layout.height} />
          <Background gap={24} size={1} />
          <Controls showInteractive={false} position="bottom-left" />
        </ReactFlow>
        {overlay && <div className="graph-overlay">{overlay}</div>}
      </div>
    </Context.Provider>
  );
}

/**
 * Start at a readable zoom: the whole graph when it fits at ≥ 60 %, else top-aligned at the zoom
 * that fits its width (a stage of 100 actions is scrolled, not shrunk to dots). Runs again when
 * the graph or the room for it changes size.
 */
function InitialView({ width, height }: { readonly width: number; readonly height: number }) {
  const flow = useReactFlow();
  const done = useRef('');
  const place = useCallback(
    (pane: Element) => {
      const { clientWidth: w, clientHeight: h } = pane;
      if (width === 0 || w === 0) return;
      // placed again when the graph or the room for it changes (a panel opens), not on every render
      const key = `${width}x${height} in ${w}x${h}`;
      if (done.current === key) return;
      done.current = key;
      const margin = 24;
      const widthFit = (w - 2 * margin) / width;
      const bothFit = Math.min(1, widthFit, (h - 2 * margin) / height);
      // a tall graph (a wide stage) is scrolled at the zoom that fits its width, not shrunk to dots
      const zoom = bothFit >= 0.6 ? bothFit : Math.max(0.6, Math.min(1, widthFit));
      const x = Math.max(margin, (w - width * zoom) / 2);
      const y = height * zoom + 2 * margin <= h ? (h - height * zoom) / 2 : margin;
      void flow.setViewport({ x, y, zoom });
    },
    [flow, width, height],
  );
  useEffect(() => {
    const pane = document.querySelector('.graph .react-flow');
    if (!pane) return;
    place(pane);
    const observer = new ResizeObserver(() => place(pane));
    observer.observe(pane);
    return () => observer.disconnect();
  }, [place]);
  return null;
}
