import { routes } from '@pilotage/api';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { call, errorText } from '../api/client';
import { dateTime } from '../common/format';
import { ErrorBox, JsonView, Loading, Tabs } from '../common/ui';
import { useSession } from '../session/session';
import { SchemaTable } from './schema-table';

type Tab = 'overview' | 'inputs' | 'outputs' | 'runtime' | 'usage' | 'source';

/** `/components/:name`: a component's versions, image, schemas as tables, env, resources, volumes, Kubernetes settings, where it is used. */
export function ComponentPage() {
  const { name = '' } = useParams();
  const { can } = useSession();
  const queries = useQueryClient();
  const [tab, setTab] = useState<Tab>('overview');
  const versions = useQuery({
    queryKey: ['component', name],
    queryFn: () => call(routes.componentVersions, { params: { name } }),
  });
  const [chosen, setChosen] = useState<string | undefined>();
  const version = chosen ?? versions.data?.versions[0]?.version;
  const detail = useQuery({
    queryKey: ['component', name, version],
    queryFn: () => call(routes.getComponent, { params: { name, version: version! } }),
    enabled: version !== undefined,
  });
  const usage = useQuery({
    queryKey: ['component-usage', name],
    queryFn: () => call(routes.componentUsage, { params: { name } }),
    enabled: tab === 'usage',
  });
  const [message, setMessage] = useState('');
  const deprecate = useMutation({
    mutationFn: () =>
      call(routes.deprecateComponent, {
        params: { name, version: version! },
        body: message.trim() === '' ? {} : { message: message.trim() },
      }),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['component', name] }),
  });
  if (versions.isPending) return <Loading what={`component ${name}`} />;
  if (versions.isError) return <ErrorBox error={versions.error} retry={() => void versions.refetch()} />;
  const d = detail.data;
  const spec = (d?.spec ?? {}) as Record<string, unknown>;
  return (
    <section aria-labelledby="comp-name">
      <div className="page-head">
        <h1 id="comp-name">{name}</h1>
        <label>
          Version{' '}
          <select value={version} onChange={(e) => setChosen(e.target.value)}>
            {versions.data.versions.map((v) => (
              <option key={v.version} value={v.version}>
                {v.version}
                {v.deprecated ? ' (deprecated)' : ''}
              </option>
            ))}
          </select>
        </label>
        <span className="spacer" />
        {can('admin') && (
          <Link className="button" to={`/components/new?from=${name}@${version ?? ''}`}>
            Register a new version
          </Link>
        )}
      </div>
      {detail.isPending ? (
        <Loading what="the version" />
      ) : detail.isError ? (
        <ErrorBox error={detail.error} />
      ) : (
        d && (
          <>
            {d.description && <p className="lead">{d.description}</p>}
            {d.deprecated && (
              <p className="notice">
                Deprecated{d.deprecationMessage ? `: ${d.deprecationMessage}` : ''}. Version ranges skip it.
              </p>
            )}
            <Tabs<Tab>
              label="Component details"
              value={tab}
              onChange={setTab}
              tabs={[
                { id: 'overview', label: 'Overview' },
                { id: 'inputs', label: 'Inputs' },
                { id: 'outputs', label: 'Outputs' },
                { id: 'runtime', label: 'Env & resources' },
                { id: 'usage', label: 'Used by' },
                { id: 'source', label: 'Source' },
              ]}
            />
            {tab === 'overview' && (
              <dl className="facts-list">
                <dt>Image</dt>
                <dd>{d.image ? <code>{d.image}</code> : <span className="muted">none (local executor only)</span>}</dd>
                <dt>Command</dt>
                <dd>{Array.isArray(spec.command) ? <code>{(spec.command as string[]).join(' ')}</code> : '—'}</dd>
                <dt>Strict contract</dt>
                <dd>{spec.strict === true ? 'yes: all five callbacks are required' : 'no'}</dd>
                <dt>Timeout</dt>
                <dd>{String(spec.timeout ?? 'the default (1h)')}</dd>
                <dt>Registered</dt>
                <dd>
                  {dateTime(d.createdAt)}
                  {d.createdBy ? ` by ${d.createdBy}` : ''}
                </dd>
                {can('admin') && !d.deprecated && (
                  <>
                    <dt>Deprecate</dt>
                    <dd className="inline-form">
                      <input
                        aria-label="Why, and what to use instead"
                        placeholder="Why, and what to use instead"
                        value={message}
                        onChange={(e) => setMessage(e.target.value)}
                      />
                      <button type="button" onClick={() => deprecate.mutate()} disabled={deprecate.isPending}>
                        Deprecate {version}
                      </button>
                      {deprecate.error && <span className="error">{errorText(deprecate.error)}</span>}
                    </dd>
                  </>
                )}
              </dl>
            )}
            {tab === 'inputs' && <SchemaTable schema={spec.inputs} empty="It declares no inputs." />}
            {tab === 'outputs' && <SchemaTable schema={spec.outputs} empty="It declares no outputs." />}
            {tab === 'runtime' && (
              <div className="grid-2">
                <div>
                  <h3>Env</h3>
                  <JsonView value={spec.env} empty="No env." />
                  <h3>Resources</h3>
                  <JsonView value={spec.resources} empty="No resource request." />
                </div>
                <div>
                  <h3>Volumes</h3>
                  <JsonView value={spec.volumes} empty="No volumes." />
                  <h3>Kubernetes</h3>
                  <JsonView value={spec.kubernetes} empty="No Kubernetes settings." />
                  {spec.endpoint !== undefined && (
                    <>
                      <h3>Endpoint</h3>
                      <JsonView value={spec.endpoint} />
                    </>
                  )}
                </div>
              </div>
            )}
            {tab === 'usage' &&
              (usage.isPending ? (
                <Loading what="usage" />
              ) : usage.isError ? (
                <ErrorBox error={usage.error} />
              ) : usage.data.workflows.length === 0 ? (
                <p className="muted">No workflow uses it (in their latest versions).</p>
              ) : (
                <table className="table">
                  <tbody>
                    {usage.data.workflows.map((w) => (
                      <tr key={w.workflow}>
                        <td>
                          <Link to={`/workflows/${w.workflow}`}>{w.workflow}</Link>{' '}
                          <span className="muted">v{w.version}</span>
                        </td>
                        <td>
                          {w.actions.map((a) => (
                            <span key={a.action} className="chip">
                              {a.stage} / {a.action} · {a.component}
                            </span>
                          ))}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ))}
            {tab === 'source' && <pre className="json">{d.source}</pre>}
          </>
        )
      )}
    </section>
  );
}
