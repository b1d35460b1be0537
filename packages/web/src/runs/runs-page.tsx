import { RUN_STATE_NAMES, routes, TRIGGER_KINDS, type RunInfo } from '@pilotage/api';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { call } from '../api/client';
import { elapsed, formatDuration, dateTime, timeAgo } from '../common/format';
import { EmptyState, ErrorBox, LiveBadge, Loading, StateBadge } from '../common/ui';
import { useNow } from '../common/use-now';
import { isTyping } from '../shell/shortcuts';
import { useLiveRuns } from './use-live-runs';

/** Time windows of the filter, ms back from now. */
const WINDOWS: Record<string, number> = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 };

/**
 * `/runs`: every run, newest first, filtered by workflow, state, trigger and time (the filters
 * live in the URL, so a filtered view can be shared), kept current live (`GET /v1/runs/events`). `j`/`k` move
 * the selection, Enter opens it.
 */
export function RunsPage() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const now = useNow(5000);
  const filter = {
    workflow: params.get('workflow') ?? undefined,
    state: (params.get('state') ?? undefined) as RunInfo['state'] | undefined,
    trigger: (params.get('trigger') ?? undefined) as RunInfo['trigger']['kind'] | undefined,
    since: params.get('since') ?? undefined,
  };
  const set = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value === '') next.delete(key);
    else next.set(key, value);
    setParams(next, { replace: true });
  };
  const workflows = useQuery({ queryKey: ['workflows'], queryFn: () => call(routes.listWorkflows, {}) });
  const windowMs = filter.since === undefined ? undefined : WINDOWS[filter.since];
  const runs = useInfiniteQuery({
    queryKey: ['runs', filter],
    queryFn: ({ pageParam }) =>
      call(routes.listRuns, {
        query: {
          workflow: filter.workflow,
          state: filter.state,
          trigger: filter.trigger,
          createdAfter: windowMs === undefined ? undefined : String(Date.now() - windowMs),
          limit: 50,
          cursor: pageParam,
        },
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });
  const live = useLiveRuns(['runs', filter], (run) => matchesFilter(run, filter, windowMs));
  const list = runs.data?.pages.flatMap((p) => p.runs) ?? [];
  const [selected, setSelected] = useState(0);
  const tableRef = useRef<HTMLTableSectionElement>(null);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (isTyping(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === 'j' || event.key === 'k') {
        event.preventDefault();
        setSelected((i) => Math.max(0, Math.min(list.length - 1, i + (event.key === 'j' ? 1 : -1))));
      } else if (event.key === 'Enter' && list[selected] && !(event.target as HTMLElement).closest('a,button')) {
        void navigate(`/runs/${list[selected].id}`);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [list, selected, navigate]);
  useEffect(() => {
    tableRef.current?.querySelector(`[data-index="${selected}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [selected]);
  const filtered = Object.values(filter).some((v) => v !== undefined);

  return (
    <section aria-labelledby="runs-title">
      <div className="page-head">
        <h1 id="runs-title">Runs</h1>
        <span className="muted small">
          <LiveBadge live={live} /> · j/k to move, Enter to open
        </span>
      </div>
      <div className="filters" role="search">
        <label>
          Workflow
          <select data-search value={filter.workflow ?? ''} onChange={(e) => set('workflow', e.target.value)}>
            <option value="">All</option>
            {(workflows.data ?? []).map((w) => (
              <option key={w.name} value={w.name}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          State
          <select value={filter.state ?? ''} onChange={(e) => set('state', e.target.value)}>
            <option value="">All</option>
            {RUN_STATE_NAMES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Trigger
          <select value={filter.trigger ?? ''} onChange={(e) => set('trigger', e.target.value)}>
            <option value="">All</option>
            {TRIGGER_KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label>
          Started
          <select value={filter.since ?? ''} onChange={(e) => set('since', e.target.value)}>
            <option value="">Any time</option>
            <option value="1h">Last hour</option>
            <option value="24h">Last 24 hours</option>
            <option value="7d">Last 7 days</option>
          </select>
        </label>
        {filtered && (
          <button type="button" className="ghost" onClick={() => setParams(new URLSearchParams(), { replace: true })}>
            Clear filters
          </button>
        )}
      </div>
      {runs.isPending ? (
        <Loading what="runs" />
      ) : runs.isError ? (
        <ErrorBox error={runs.error} retry={() => void runs.refetch()} />
      ) : list.length === 0 ? (
        filtered ? (
          <EmptyState title="No run matches these filters">Widen the time window or clear the filters.</EmptyState>
        ) : (
          <EmptyState
            title="No runs yet"
            action={
              <Link className="button primary" to="/workflows">
                Start a workflow
              </Link>
            }
          >
            Runs appear here as soon as a workflow starts: from this UI, <code>pilotage run --server</code>, a webhook,
            a CDEvent or a cron schedule.
          </EmptyState>
        )
      ) : (
        <>
          <table className="table runs-table">
            <thead>
              <tr>
                <th>State</th>
                <th>Run</th>
                <th>Trigger</th>
                <th>Started</th>
                <th>Duration</th>
              </tr>
            </thead>
            <tbody ref={tableRef}>
              {list.map((run, i) => (
                <tr
                  key={run.id}
                  data-index={i}
                  className={i === selected ? 'selected' : undefined}
                  onClick={() => setSelected(i)}
                >
                  <td>
                    <StateBadge state={run.state} />
                  </td>
                  <td>
                    <Link to={`/runs/${run.id}`} className="run-link">
                      <strong>{run.workflow}</strong> <span className="muted">#{run.number}</span>
                    </Link>
                    {run.reason && run.state !== 'succeeded' && <div className="muted small clip">{run.reason}</div>}
                  </td>
                  <td>
                    <span className="chip">{run.trigger.kind}</span>
                    {run.trigger.by && <span className="muted small"> {run.trigger.by}</span>}
                  </td>
                  <td title={dateTime(run.createdAt)}>{timeAgo(run.startedAt ?? run.createdAt, now)}</td>
                  <td className="num">{formatDuration(elapsed(run.startedAt, run.endedAt, now))}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {runs.hasNextPage && (
            <button type="button" className="load-more" onClick={() => void runs.fetchNextPage()}>
              {runs.isFetchingNextPage ? 'Loading…' : 'Load older runs'}
            </button>
          )}
        </>
      )}
    </section>
  );
}

/** Whether `run` belongs on the list filtered by `filter` (the server applies the same filters). */
export function matchesFilter(
  run: RunInfo,
  filter: { workflow?: string; state?: string; trigger?: string },
  windowMs: number | undefined,
  now = Date.now(),
): boolean {
  return (
    (filter.workflow === undefined || run.workflow === filter.workflow) &&
    (filter.state === undefined || run.state === filter.state) &&
    (filter.trigger === undefined || run.trigger.kind === filter.trigger) &&
    (windowMs === undefined || run.createdAt >= now - windowMs)
  );
}
