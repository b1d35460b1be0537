import { routes } from '@pilotage/api';
import { useQuery } from '@tanstack/react-query';
import { Fragment, useState } from 'react';
import { call } from '../api/client';
import { dateTime } from '../common/format';
import { EmptyState, ErrorBox, JsonView, Loading } from '../common/ui';

/** The run's CDEvents in emission order, each with its delivery state per sink. */
export function CdeventsView({ runId, active }: { readonly runId: string; readonly active: boolean }) {
  const events = useQuery({
    queryKey: ['cdevents', runId],
    queryFn: () => call(routes.runCdevents, { params: { id: runId } }),
    refetchInterval: active ? 3000 : 15_000,
  });
  const [open, setOpen] = useState<string | undefined>();
  if (events.isPending) return <Loading what="CDEvents" />;
  if (events.isError) return <ErrorBox error={events.error} retry={() => void events.refetch()} />;
  if (events.data.events.length === 0) {
    return (
      <EmptyState title="No CDEvents for this run">
        The server emits one per state change of the run and its task runs.
      </EmptyState>
    );
  }
  return (
    <table className="table cdevents">
      <thead>
        <tr>
          <th>#</th>
          <th>Type</th>
          <th>At</th>
          <th>Deliveries</th>
        </tr>
      </thead>
      <tbody>
        {events.data.events.map((e) => (
          <Fragment key={e.id}>
            <tr>
              <td className="num">{e.seq}</td>
              <td>
                <button
                  type="button"
                  className="link"
                  onClick={() => setOpen(open === e.id ? undefined : e.id)}
                  aria-expanded={open === e.id}
                >
                  {e.type.replace(/^dev\.cdevents\./, '')}
                </button>
              </td>
              <td className="num">{dateTime(e.createdAt)}</td>
              <td>
                {e.deliveries.length === 0 ? (
                  <span className="muted">no sink configured</span>
                ) : (
                  e.deliveries.map((d) => (
                    <span key={d.sink} className={`delivery delivery-${d.state}`} title={d.lastError ?? d.sink}>
                      {d.state} · {d.sink}
                      {d.attempts > 1 ? ` (${d.attempts} attempts)` : ''}
                    </span>
                  ))
                )}
              </td>
            </tr>
            {open === e.id && (
              <tr className="expanded">
                <td colSpan={4}>
                  <JsonView value={e.event} />
                </td>
              </tr>
            )}
          </Fragment>
        ))}
      </tbody>
    </table>
  );
}
