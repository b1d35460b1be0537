import { routes } from '@pilotage/api';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { call } from '../api/client';
import { timeAgo } from '../common/format';
import { EmptyState, ErrorBox, Loading } from '../common/ui';
import { useNow } from '../common/use-now';
import { useSession } from '../session/session';

/** `/workflows`: the applied workflows, searchable; new, edit, start. */
export function WorkflowsPage() {
  const list = useQuery({ queryKey: ['workflows'], queryFn: () => call(routes.listWorkflows, {}) });
  const [q, setQ] = useState('');
  const { can } = useSession();
  const now = useNow(30_000);
  const shown = (list.data ?? []).filter(
    (w) =>
      q === '' || w.name.includes(q.toLowerCase()) || (w.description ?? '').toLowerCase().includes(q.toLowerCase()),
  );
  return (
    <section aria-labelledby="wf-title">
      <div className="page-head">
        <h1 id="wf-title">Workflows</h1>
        <input
          type="search"
          data-search
          placeholder="Search workflows (/)"
          aria-label="Search workflows"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
        <span className="spacer" />
        {can('admin') && (
          <Link className="button primary" to="/workflows/new/edit">
            New workflow
          </Link>
        )}
      </div>
      {list.isPending ? (
        <Loading what="workflows" />
      ) : list.isError ? (
        <ErrorBox error={list.error} retry={() => void list.refetch()} />
      ) : shown.length === 0 ? (
        q !== '' ? (
          <EmptyState title={`No workflow matches “${q}”`} />
        ) : (
          <EmptyState
            title="No workflows yet"
            action={
              can('admin') && (
                <Link className="button primary" to="/workflows/new/edit">
                  Design a workflow
                </Link>
              )
            }
          >
            Design one here, or apply a file: <code>pilotage workflow apply workflow.yaml --server URL</code>.
          </EmptyState>
        )
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Workflow</th>
              <th>Triggers</th>
              <th>Version</th>
              <th>Updated</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {shown.map((w) => (
              <tr key={w.name}>
                <td>
                  <Link to={`/workflows/${w.name}`}>
                    <strong>{w.name}</strong>
                  </Link>
                  {!w.enabled && <span className="chip warn">disabled</span>}
                  {w.description && <div className="muted small clip">{w.description}</div>}
                </td>
                <td>
                  {w.triggers.map((t) => (
                    <span key={t} className="chip">
                      {t}
                    </span>
                  ))}
                </td>
                <td className="num">v{w.latestVersion}</td>
                <td>{timeAgo(w.updatedAt, now)}</td>
                <td className="row-actions">
                  <Link to={`/workflows/${w.name}`}>Start</Link>
                  <Link to={`/runs?workflow=${w.name}`}>Runs</Link>
                  {can('admin') && <Link to={`/workflows/${w.name}/edit`}>Edit</Link>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
