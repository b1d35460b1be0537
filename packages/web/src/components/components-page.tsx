import { routes, type ComponentInfo } from '@pilotage/api';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState, type DragEvent } from 'react';
import { Link } from 'react-router';
import { call } from '../api/client';
import { EmptyState, ErrorBox, Loading } from '../common/ui';
import { COMPONENT_DRAG_TYPE } from '../graph/workflow-graph';
import { useSession } from '../session/session';

/** The registry's components matching `q` (newest version of each), read again as `q` settles. */
export function useComponents(q: string) {
  const [settled, setSettled] = useState(q);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(q), 200);
    return () => clearTimeout(timer);
  }, [q]);
  return useQuery({
    queryKey: ['components', settled],
    queryFn: () => call(routes.listComponents, { query: settled === '' ? {} : { q: settled } }),
  });
}

/** A component card; `draggable` ones can be dropped into a stage of the workflow editor. */
export function ComponentCard({ c, draggable }: { readonly c: ComponentInfo; readonly draggable?: boolean }) {
  const onDragStart = (e: DragEvent) => {
    e.dataTransfer.setData(COMPONENT_DRAG_TYPE, `${c.name}@${c.version}`);
    e.dataTransfer.setData('text/plain', `${c.name}@${c.version}`);
    e.dataTransfer.effectAllowed = 'copy';
  };
  return (
    <div
      className={`component-card${draggable ? ' draggable' : ''}`}
      draggable={draggable}
      onDragStart={draggable ? onDragStart : undefined}
      data-component={c.name}
      title={draggable ? 'Drag into a stage' : undefined}
    >
      <div className="component-head">
        <Link to={`/components/${c.name}`}>
          <strong>{c.name}</strong>
        </Link>
        <span className="chip">{c.version}</span>
        {c.deprecated && <span className="chip warn">deprecated</span>}
      </div>
      {c.description && <div className="muted small">{c.description}</div>}
      {c.image && <code className="small clip">{c.image}</code>}
    </div>
  );
}

/** `/components`: the catalog, searchable. */
export function ComponentsPage() {
  const [q, setQ] = useState('');
  const list = useComponents(q);
  const { can } = useSession();
  return (
    <section aria-labelledby="comp-title">
      <div className="page-head">
        <h1 id="comp-title">Components</h1>
        <input
          type="search"
          data-search
          placeholder="Search by name or description (/)"
          aria-label="Search components"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
        <span className="spacer" />
        {can('admin') && (
          <Link className="button primary" to="/components/new">
            Register a component
          </Link>
        )}
      </div>
      {list.isPending ? (
        <Loading what="components" />
      ) : list.isError ? (
        <ErrorBox error={list.error} retry={() => void list.refetch()} />
      ) : list.data.length === 0 ? (
        q ? (
          <EmptyState title={`No component matches “${q}”`} />
        ) : (
          <EmptyState
            title="No components registered"
            action={
              can('admin') && (
                <Link className="button primary" to="/components/new">
                  Register one
                </Link>
              )
            }
          >
            Register a component.yaml here, or with <code>pilotage component register DIR --server URL</code>.
          </EmptyState>
        )
      ) : (
        <div className="component-grid">
          {list.data.map((c) => (
            <ComponentCard key={c.name} c={c} />
          ))}
        </div>
      )}
    </section>
  );
}
