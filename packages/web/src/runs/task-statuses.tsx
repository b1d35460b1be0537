import { routes, type StatusInfo, type TaskRunInfo } from '@pilotage/api';
import { useState } from 'react';
import { call, errorText } from '../api/client';
import { clockTime } from '../common/format';

/** Reports fetched per "Load older" click. */
const OLDER_PAGE = 100;

/**
 * A task run's TASK_STATUS reports, newest first: the latest ones the run page has (the run
 * detail's, then live ones), and older ones page by page from `GET …/statuses?before=SEQ` on
 * demand, so a task that reported 100,000 times stays usable. Mount it with `key={task.id}`.
 */
export function TaskStatuses({
  runId,
  task,
  latest,
}: {
  readonly runId: string;
  readonly task: TaskRunInfo;
  readonly latest: readonly StatusInfo[];
}) {
  const [older, setOlder] = useState<readonly StatusInfo[]>([]);
  const [loading, setLoading] = useState(false);
  const [failure, setFailure] = useState<string | undefined>();
  const shown = mergeBySeq(older, latest);
  const first = shown[0]?.seq ?? task.statusCount + 1;
  const loadOlder = async (): Promise<void> => {
    setLoading(true);
    setFailure(undefined);
    try {
      const page = await call(routes.taskStatuses, {
        params: { id: runId, taskRunId: task.id },
        query: { before: first, limit: OLDER_PAGE },
      });
      setOlder((current) => mergeBySeq(page.statuses, current));
    } catch (error) {
      setFailure(errorText(error));
    } finally {
      setLoading(false);
    }
  };
  if (shown.length === 0 && task.dropped.statuses === 0) return <p className="muted">No TASK_STATUS report.</p>;
  return (
    <div className="task-statuses">
      <p className="muted small" data-testid="statuses-shown">
        Showing {shown.length} of {Math.max(task.statusCount, shown.at(-1)?.seq ?? 0)} stored
        {task.dropped.statuses > 0 ? `; ${task.dropped.statuses} more were dropped past the cap` : ''}.
      </p>
      <table className="table compact">
        <thead>
          <tr>
            <th>#</th>
            <th>At</th>
            <th>Message</th>
            <th>Progress</th>
            <th>Output</th>
          </tr>
        </thead>
        <tbody>
          {[...shown].reverse().map((s) => (
            <tr key={s.seq} className="status-row">
              <td className="num">{s.seq}</td>
              <td className="num">{clockTime(s.at)}</td>
              <td>{s.message ?? ''}</td>
              <td className="num">{s.progress === null ? '' : `${Math.round(s.progress * 100)}%`}</td>
              <td>{s.output ? <code>{JSON.stringify(s.output)}</code> : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {failure && <p className="error">{failure}</p>}
      {first > 1 && (
        <button type="button" className="ghost" disabled={loading} onClick={() => void loadOlder()}>
          {loading ? 'Loading…' : `Load older (before #${first})`}
        </button>
      )}
    </div>
  );
}

/** Two runs of reports as one, by seq, each seq once (the later list wins). */
function mergeBySeq(a: readonly StatusInfo[], b: readonly StatusInfo[]): StatusInfo[] {
  const bySeq = new Map<number, StatusInfo>();
  for (const s of a) bySeq.set(s.seq, s);
  for (const s of b) bySeq.set(s.seq, s);
  return [...bySeq.values()].sort((x, y) => x.seq - y.seq);
}
