import { routes, type RunInfo, type TaskRunInfo } from '@pilotage/api';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { ApiError, call, errorText } from '../api/client';
import { dateTime, elapsed, formatDuration } from '../common/format';
import { EmptyState, ErrorBox, JsonView, LiveBadge, Loading, StateBadge, Tabs, type Live } from '../common/ui';
import { useNow } from '../common/use-now';
import type { LaneStage } from '../graph/lanes';
import { WorkflowGraph, type ActionView } from '../graph/workflow-graph';
import { useSession } from '../session/session';
import { CdeventsView } from './cdevents-view';
import { attemptsByAction, graphStages, stageState, waitingApproval, type NodeInfo } from './run-model';
import { TaskPanel } from './task-panel';
import { useRun } from './use-run';

type View = 'graph' | 'events' | 'inputs';

/**
 * `/runs/:id`: the run's whole planned graph from the start, live; the panel of the selected
 * action (`?action=NAME`, a stable URL) with its log; cancel, approve or reject, rerun.
 */
export function RunPage() {
  const { id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const selected = params.get('action') ?? undefined;
  const { model, error, live } = useRun(id);
  const [view, setView] = useState<View>('graph');
  const now = useNow(
    1000,
    model !== undefined && !['succeeded', 'failed', 'errored', 'cancelled'].includes(model.run.state),
  );
  const select = useCallback(
    (action: string | undefined) => {
      const next = new URLSearchParams(params);
      if (action === undefined) next.delete('action');
      else next.set('action', action);
      setParams(next, { replace: true });
    },
    [params, setParams],
  );
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && selected !== undefined) select(undefined);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [selected, select]);

  const byAction = useMemo(() => (model ? attemptsByAction(model) : new Map<string, TaskRunInfo[]>()), [model]);
  const graph = useMemo(() => (model ? graphStages(model) : undefined), [model]);
  // the layout is redone only when what it draws changes, not on every live event
  const stagesKey = JSON.stringify(graph?.stages ?? []);
  const stages = useMemo(() => JSON.parse(stagesKey) as LaneStage[], [stagesKey]);
  const actionView = useCallback(
    (action: string): ActionView => {
      const attempts = byAction.get(action) ?? [];
      const last = attempts.at(-1);
      const statuses = last ? (model?.statuses.get(last.id) ?? []) : [];
      const progress = statuses.findLast((s) => s.progress !== null)?.progress ?? undefined;
      const duration = last ? formatDuration(elapsed(last.startedAt, last.endedAt, now)) : undefined;
      const node = graph?.nodes.get(action);
      return {
        ...(last ? { state: last.state } : {}),
        detail: nodeDetail(node, last),
        aside: [attempts.length > 1 ? `#${attempts.length}` : '', last?.startedAt ? duration : '']
          .filter(Boolean)
          .join(' · '),
        ...(last?.message
          ? { message: last.message }
          : last?.reason && last.state !== 'succeeded'
            ? { message: last.reason }
            : {}),
        ...(progress !== undefined ? { progress } : {}),
      };
    },
    [byAction, model?.statuses, now, graph],
  );
  const laneView = useCallback(
    (stage: LaneStage) => {
      const states = stage.actions.map((a) => byAction.get(a.name)?.at(-1)?.state);
      const state = stageState(states);
      return { ...(state ? { state } : {}), summary: stageSummary(states) };
    },
    [byAction],
  );

  if (error && !model) {
    return <ErrorBox error={error} retry={() => window.location.reload()} />;
  }
  if (!model) return <Loading what="the run" />;
  const { run } = model;
  const selectedAttempts = selected ? (byAction.get(selected) ?? []) : [];
  const approval = waitingApproval(model);
  return (
    <section className="run-page" aria-labelledby="run-title">
      <RunHeader runId={id} model={model} now={now} live={live} />
      {approval && <ApprovalBar runId={id} stage={approval.stage} />}
      <Tabs<View>
        label="Run views"
        value={view}
        onChange={setView}
        tabs={[
          { id: 'graph', label: 'Graph' },
          { id: 'events', label: 'CDEvents' },
          { id: 'inputs', label: 'Inputs' },
        ]}
      />
      {view === 'graph' && (
        <div className={`run-body${selected ? ' with-panel' : ''}`}>
          {stages.length === 0 ? (
            <EmptyState title="This run has no planned stages">Its plan holds no stage to draw.</EmptyState>
          ) : (
            <WorkflowGraph
              stages={stages}
              actionView={actionView}
              laneView={laneView}
              selected={selected}
              onSelect={(a) => select(a === selected ? undefined : a)}
            />
          )}
          {selected && (
            <TaskPanel
              key={selected}
              runId={id}
              action={selected}
              attempts={selectedAttempts}
              statuses={model.statuses}
              onClose={() => select(undefined)}
            />
          )}
        </div>
      )}
      {view === 'events' && (
        <CdeventsView runId={id} active={!['succeeded', 'failed', 'errored', 'cancelled'].includes(run.state)} />
      )}
      {view === 'inputs' && (
        <div className="card">
          <h2>Event data of the run</h2>
          <JsonView value={run.inputs} empty="The run was started with no event data." />
        </div>
      )}
    </section>
  );
}

function RunHeader({
  runId,
  model,
  now,
  live,
}: {
  readonly runId: string;
  readonly model: NonNullable<ReturnType<typeof useRun>['model']>;
  readonly now: number;
  readonly live: Live;
}) {
  const { run } = model;
  const navigate = useNavigate();
  const queries = useQueryClient();
  const { can } = useSession();
  const ended = ['succeeded', 'failed', 'errored', 'cancelled'].includes(run.state);
  const cancel = useMutation({
    mutationFn: () => call(routes.cancelRun, { params: { id: runId } }),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['run', runId] }),
  });
  const rerun = useMutation({
    mutationFn: (body: { from: 'failed' | 'start'; emptyWorkspace?: boolean }) =>
      call(routes.rerun, { params: { id: runId }, body }),
    onSuccess: (next) => void navigate(`/runs/${next.id}`),
  });
  const error = cancel.error ?? rerun.error;
  // the failed run's workspace is gone: offer the rerun with an empty one the server refused
  const workspaceGone = rerun.error instanceof ApiError && rerun.error.code === 'WORKSPACE_EXPIRED';
  const rerunOf = run.trigger.kind === 'rerun' ? (run.trigger.details?.of as string | undefined) : undefined;
  return (
    <div className="run-head">
      <div className="run-title">
        <h1 id="run-title">
          <Link to={`/workflows/${run.workflow}`}>{run.workflow}</Link> <span className="muted">#{run.number}</span>
        </h1>
        <StateBadge state={run.state} />
        <LiveBadge live={live} />
      </div>
      <dl className="run-facts">
        <div>
          <dt>Trigger</dt>
          <dd>
            {run.trigger.kind}
            {run.trigger.by ? ` · ${run.trigger.by}` : ''}
            {rerunOf && (
              <>
                {' '}
                of <Link to={`/runs/${rerunOf}`}>{rerunOf.slice(-8)}</Link>
              </>
            )}
            {run.parent && (
              <>
                {' '}
                by{' '}
                <Link to={`/runs/${run.parent.runId}`} className="parent-run">
                  its calling run
                </Link>
              </>
            )}
          </dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{dateTime(run.startedAt ?? run.createdAt)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd className="num">{formatDuration(elapsed(run.startedAt, run.endedAt, now))}</dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>{run.workflowVersion ?? 'local file'}</dd>
        </div>
        <WorkspaceFact workspace={run.workspace} />
        {run.reason && (
          <div className="wide">
            <dt>Reason</dt>
            <dd>{run.reason}</dd>
          </div>
        )}
      </dl>
      <div className="run-actions">
        {!ended && can('run') && (
          <button type="button" className="danger" disabled={cancel.isPending} onClick={() => cancel.mutate()}>
            {cancel.isPending ? 'Cancelling…' : 'Cancel run'}
          </button>
        )}
        {ended && can('run') && run.state !== 'succeeded' && (
          <button
            type="button"
            className="primary"
            disabled={rerun.isPending}
            onClick={() => rerun.mutate({ from: 'failed' })}
            title="Reuse what succeeded; run the failed actions and everything after them"
          >
            Rerun from failed
          </button>
        )}
        {ended && can('run') && (
          <button type="button" disabled={rerun.isPending} onClick={() => rerun.mutate({ from: 'start' })}>
            Rerun all
          </button>
        )}
        {workspaceGone && (
          <button
            type="button"
            disabled={rerun.isPending}
            onClick={() => rerun.mutate({ from: 'failed', emptyWorkspace: true })}
            title="Reuse what succeeded, without the files those actions made"
          >
            Rerun from failed with an empty workspace
          </button>
        )}
      </div>
      {error && (
        <p className="error" role="alert">
          {errorText(error)}
        </p>
      )}
    </div>
  );
}

/** What is left of the run's workspace: kept for a rerun (until when), expired, or a copy of another run's. */
function WorkspaceFact({ workspace }: { readonly workspace: RunInfo['workspace'] }) {
  if (workspace === undefined) return null;
  const from =
    workspace.from === null ? null : (
      <>
        {' '}
        · a copy of <Link to={`/runs/${workspace.from}`}>{workspace.from.slice(-8)}</Link>
      </>
    );
  let text: string;
  if (workspace.state === 'kept') {
    text = workspace.expiresAt === null ? 'kept' : `kept until ${dateTime(workspace.expiresAt)}`;
  } else if (workspace.state === 'expired') {
    text = 'expired (removed)';
  } else if (from !== null) {
    text = 'started';
  } else {
    return null;
  }
  return (
    <div className="run-workspace">
      <dt>Workspace</dt>
      <dd>
        {text}
        {from}
      </dd>
    </div>
  );
}

function ApprovalBar({ runId, stage }: { readonly runId: string; readonly stage: string }) {
  const [comment, setComment] = useState('');
  const { can } = useSession();
  const queries = useQueryClient();
  const decide = useMutation({
    mutationFn: (verb: 'approve' | 'reject') =>
      call(verb === 'approve' ? routes.approveStage : routes.rejectStage, {
        params: { id: runId, stage },
        body: comment.trim() === '' ? {} : { comment: comment.trim() },
      }),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['run', runId] }),
  });
  return (
    <div className="approval-bar" role="region" aria-label="Approval">
      <strong>‖ Stage “{stage}” waits for approval.</strong>
      {can('run') ? (
        <>
          <input
            aria-label="Comment"
            placeholder="Comment (recorded with the decision)"
            value={comment}
            onChange={(e) => setComment(e.target.value)}
          />
          <button
            type="button"
            className="primary"
            disabled={decide.isPending}
            onClick={() => decide.mutate('approve')}
          >
            Approve
          </button>
          <button type="button" className="danger" disabled={decide.isPending} onClick={() => decide.mutate('reject')}>
            Reject
          </button>
        </>
      ) : (
        <span className="muted">Your token has the read scope: deciding needs run.</span>
      )}
      {decide.error && (
        <span className="error" role="alert">
          {errorText(decide.error)}
        </span>
      )}
    </div>
  );
}

/** `3 of 5 succeeded · 1 failed · 1 running`, or `2 skipped`, or `not started`. */
function stageSummary(states: readonly (string | undefined)[]): string {
  const count = new Map<string, number>();
  for (const s of states) count.set(s ?? 'waiting', (count.get(s ?? 'waiting') ?? 0) + 1);
  if (count.get('waiting') === states.length) return 'not started';
  const parts: string[] = [];
  const ok = count.get('succeeded') ?? 0;
  if (ok > 0) parts.push(`${ok} of ${states.length} succeeded`);
  for (const s of ['failed', 'errored', 'running', 'starting', 'pending', 'cancelled', 'skipped', 'waiting']) {
    const n = count.get(s);
    if (n) parts.push(`${n} ${s}`);
  }
  return parts.join(' · ');
}

/** The second line of a node: what it runs (a component, a called workflow), and if a matrix. */
function nodeDetail(node: NodeInfo | undefined, last: TaskRunInfo | undefined): string {
  const component = node?.component ?? last?.component;
  const what =
    node?.uses !== undefined
      ? `↳ calls ${node.uses}`
      : component && !component.startsWith('inline:') && !component.startsWith('workflow:')
        ? component
        : 'inline run';
  if (node?.matrixOf === undefined) return what;
  return node.values === undefined ? `matrix · ${what}` : what;
}
