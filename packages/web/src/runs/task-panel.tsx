import type { StatusInfo, TaskRunInfo } from '@pilotage/api';
import { useState } from 'react';
import { Link } from 'react-router';
import { dateTime, formatDuration } from '../common/format';
import { EmptyState, JsonView, StateBadge, Tabs } from '../common/ui';
import { LogViewer } from './log-viewer';
import { TaskStatuses } from './task-statuses';

type Tab = 'log' | 'data' | 'outputs' | 'statuses' | 'timeline' | 'executor';

/** The five callbacks of the component contract, in order. */
const STEPS = [
  ['component-start', 'COMPONENT_START'],
  ['task-start', 'TASK_START'],
  ['task-status', 'TASK_STATUS'],
  ['task-result', 'TASK_RESULT'],
  ['component-stop', 'COMPONENT_STOP'],
] as const;

/**
 * The panel of one action of a run: its attempts, and per attempt the log (live), event data,
 * outputs, interim statuses, the five-callback timeline and what the executor reported.
 */
export function TaskPanel({
  runId,
  action,
  attempts,
  statuses,
  onClose,
}: {
  readonly runId: string;
  readonly action: string;
  readonly attempts: readonly TaskRunInfo[];
  readonly statuses: ReadonlyMap<string, readonly StatusInfo[]>;
  readonly onClose: () => void;
}) {
  const [tab, setTab] = useState<Tab>('log');
  const [chosen, setChosen] = useState<string | undefined>();
  const task = attempts.find((a) => a.id === chosen) ?? attempts.at(-1);
  return (
    <aside className="panel" aria-label={`Action ${action}`}>
      <div className="panel-head">
        <h2 title={action}>{action}</h2>
        {task && <StateBadge state={task.state} small />}
        <button type="button" className="ghost close" onClick={onClose} aria-label="Close the panel (Esc)">
          ✕
        </button>
      </div>
      {task === undefined ? (
        <EmptyState title="Not reached yet">
          This action has not started in this run: an earlier stage is still running or did not succeed.
        </EmptyState>
      ) : (
        <>
          <div className="panel-sub">
            {attempts.length > 1 && (
              <label>
                Attempt{' '}
                <select value={task.id} onChange={(e) => setChosen(e.target.value)}>
                  {attempts.map((a) => (
                    <option key={a.id} value={a.id}>
                      #{a.attempt} · {a.state}
                    </option>
                  ))}
                </select>
              </label>
            )}
            {task.childRunId ? (
              <Link to={`/runs/${task.childRunId}`} className="child-run">
                ↳ its child run
              </Link>
            ) : (
              <span className="muted small">
                {task.component.startsWith('inline:') ? 'inline run' : task.component}
              </span>
            )}
            {task.matrix && (
              <span className="chip" title={`a combination of the matrix of ${task.matrix.action}`}>
                {Object.entries(task.matrix.values)
                  .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
                  .join(' ')}
              </span>
            )}
            {task.reason && task.state !== 'succeeded' && <span className="reason">{task.reason}</span>}
          </div>
          {task.message && <p className="message">{task.message}</p>}
          <DroppedNotice task={task} />
          <Tabs<Tab>
            label="Action details"
            value={tab}
            onChange={setTab}
            tabs={[
              { id: 'log', label: 'Log' },
              { id: 'data', label: 'Event data' },
              { id: 'outputs', label: 'Outputs' },
              {
                id: 'statuses',
                label: `Statuses (${Math.max(task.statusCount, statuses.get(task.id)?.at(-1)?.seq ?? 0)})`,
              },
              { id: 'timeline', label: 'Timeline' },
              { id: 'executor', label: 'Executor' },
            ]}
          />
          <div className="panel-body">
            {tab === 'log' && <LogViewer key={task.id} runId={runId} task={task} />}
            {tab === 'data' && <JsonView value={task.eventData} empty="No event data." />}
            {tab === 'outputs' && <JsonView value={task.output} empty="No outputs reported." />}
            {tab === 'statuses' && (
              <TaskStatuses key={task.id} runId={runId} task={task} latest={statuses.get(task.id) ?? []} />
            )}
            {tab === 'timeline' && <Timeline task={task} />}
            {tab === 'executor' && <Executor task={task} />}
          </div>
        </>
      )}
    </aside>
  );
}

/**
 * What the per task run caps dropped (docs/configuration.md, per task run limits): nothing when
 * the component stayed under them.
 */
function DroppedNotice({ task }: { readonly task: TaskRunInfo }) {
  const { statuses, logLines, logBytes } = task.dropped;
  if (statuses === 0 && logLines === 0) return null;
  const parts = [
    statuses > 0 ? `${statuses} TASK_STATUS reports` : undefined,
    logLines > 0 ? `${logLines} log lines (${bytesText(logBytes)})` : undefined,
  ].filter((part) => part !== undefined);
  return (
    <p className="notice dropped" role="status">
      Past this task run&rsquo;s caps, {parts.join(' and ')} were not stored. The log says which cap was reached; the
      outputs and the result are kept whole.
    </p>
  );
}

function bytesText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** The five callbacks: when each was first seen, relative to the start; what is missing. */
function Timeline({ task }: { readonly task: TaskRunInfo }) {
  const origin = task.startedAt ?? task.createdAt;
  return (
    <div>
      <ol className="timeline">
        <li className="seen">
          <span className="step">created</span>
          <span className="num">{dateTime(task.createdAt)}</span>
        </li>
        {STEPS.map(([key, label]) => {
          const at = task.steps[key];
          return (
            <li key={key} className={at === undefined ? 'missing' : 'seen'}>
              <span className="step">{label}</span>
              <span className="num">{at === undefined ? 'not received' : `+${formatDuration(at - origin)}`}</span>
            </li>
          );
        })}
        <li className={task.endedAt === null ? 'missing' : 'seen'}>
          <span className="step">ended ({task.state})</span>
          <span className="num">{task.endedAt === null ? '—' : `+${formatDuration(task.endedAt - origin)}`}</span>
        </li>
      </ol>
      <p className="muted small">
        Without a TASK_RESULT the exit code decides, unless the component is strict. Exit code: {task.exitCode ?? '—'};
        result: {task.result ?? '—'}.
      </p>
    </div>
  );
}

/**
 * What the executor said: its reference (pid, container id, pod) and every fact it reported
 * (image digest, pod, node…), shown as they are: executors differ in what they report.
 */
function Executor({ task }: { readonly task: TaskRunInfo }) {
  const facts = Object.entries(task.facts).sort(([a], [b]) => a.localeCompare(b));
  return (
    <table className="table compact facts">
      <tbody>
        <tr>
          <th>executor</th>
          <td>{task.executor}</td>
        </tr>
        <tr>
          <th>reference</th>
          <td>
            <code>{task.ref ?? '—'}</code>
          </td>
        </tr>
        <tr>
          <th>exit code</th>
          <td>{task.exitCode ?? '—'}</td>
        </tr>
        {facts.map(([key, value]) => (
          <tr key={key}>
            <th>{key}</th>
            <td>
              <code>{value}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
