import { routes } from '@pilotage/api';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { call, errorText } from '../api/client';
import { dateTime } from '../common/format';
import { DiffView } from '../common/diff-view';
import { ErrorBox, Loading, StateBadge, Tabs } from '../common/ui';
import { useSession } from '../session/session';
import { StartRunForm } from './start-run-form';

type Tab = 'start' | 'runs' | 'versions';

/** `/workflows/:name`: start a run from the generated form, its recent runs, its versions and their diffs. */
export function WorkflowPage() {
  const { name = '' } = useParams();
  const { can } = useSession();
  const queries = useQueryClient();
  const [tab, setTab] = useState<Tab>('start');
  const workflow = useQuery({
    queryKey: ['workflow', name],
    queryFn: () => call(routes.getWorkflow, { params: { name } }),
  });
  const latest = workflow.data?.latestVersion;
  const version = useQuery({
    queryKey: ['workflow', name, latest],
    queryFn: () => call(routes.getWorkflowVersion, { params: { name, version: latest! } }),
    enabled: latest !== undefined,
  });
  const toggle = useMutation({
    mutationFn: (enable: boolean) =>
      call(enable ? routes.enableWorkflow : routes.disableWorkflow, { params: { name } }),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['workflow', name] }),
  });
  if (workflow.isPending) return <Loading what={`workflow ${name}`} />;
  if (workflow.isError) return <ErrorBox error={workflow.error} retry={() => void workflow.refetch()} />;
  const w = workflow.data;
  const plan = version.data?.plan as { inputs?: object; stages?: { name: string; actions?: unknown[] }[] } | undefined;
  return (
    <section aria-labelledby="wf-name">
      <div className="page-head">
        <h1 id="wf-name">{w.name}</h1>
        <span className="chip">v{w.latestVersion}</span>
        {!w.enabled && <span className="chip warn">disabled</span>}
        <span className="spacer" />
        {can('admin') && (
          <>
            <button type="button" onClick={() => toggle.mutate(!w.enabled)} disabled={toggle.isPending}>
              {w.enabled ? 'Disable' : 'Enable'}
            </button>
            <Link className="button" to={`/workflows/${w.name}/edit`}>
              Edit
            </Link>
          </>
        )}
      </div>
      {w.description && <p className="lead">{w.description}</p>}
      <p className="muted small">
        {plan?.stages?.length ?? 0} stages · triggers: {w.triggers.join(', ') || 'manual only'}
      </p>
      {toggle.error && <p className="error">{errorText(toggle.error)}</p>}
      <Tabs<Tab>
        label="Workflow views"
        value={tab}
        onChange={setTab}
        tabs={[
          { id: 'start', label: 'Start a run' },
          { id: 'runs', label: 'Recent runs' },
          { id: 'versions', label: `Versions (${w.versions.length})` },
        ]}
      />
      {tab === 'start' &&
        (version.isPending ? (
          <Loading what="its inputs" />
        ) : version.isError ? (
          <ErrorBox error={version.error} />
        ) : (
          <StartRunForm
            workflow={w.name}
            version={w.latestVersion}
            schema={plan?.inputs}
            disabled={!w.enabled || !can('run')}
          />
        ))}
      {tab === 'runs' && <RecentRuns workflow={w.name} />}
      {tab === 'versions' && <Versions name={w.name} versions={w.versions} />}
    </section>
  );
}

function RecentRuns({ workflow }: { readonly workflow: string }) {
  const runs = useQuery({
    queryKey: ['runs', { workflow, recent: true }],
    queryFn: () => call(routes.listRuns, { query: { workflow, limit: 20 } }),
    refetchInterval: 3000,
  });
  if (runs.isPending) return <Loading what="runs" />;
  if (runs.isError) return <ErrorBox error={runs.error} />;
  if (runs.data.runs.length === 0) return <p className="muted">No run of this workflow yet.</p>;
  return (
    <table className="table">
      <tbody>
        {runs.data.runs.map((r) => (
          <tr key={r.id}>
            <td>
              <StateBadge state={r.state} />
            </td>
            <td>
              <Link to={`/runs/${r.id}`}>#{r.number}</Link>
            </td>
            <td>{r.trigger.kind}</td>
            <td>{dateTime(r.createdAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Versions({
  name,
  versions,
}: {
  readonly name: string;
  readonly versions: readonly { version: number; createdAt: number; createdBy: string | null; digest: string }[];
}) {
  const [shown, setShown] = useState<number | undefined>(versions.length > 1 ? versions[0]?.version : undefined);
  const diff = useQuery({
    queryKey: ['diff', name, shown],
    queryFn: () => call(routes.workflowDiff, { params: { name }, query: { to: shown } }),
    enabled: shown !== undefined && shown > 1,
  });
  return (
    <div className="split">
      <table className="table">
        <tbody>
          {versions.map((v) => (
            <tr key={v.version} className={v.version === shown ? 'selected' : undefined}>
              <td>
                <button type="button" className="link" onClick={() => setShown(v.version)} disabled={v.version === 1}>
                  v{v.version}
                </button>
              </td>
              <td>{dateTime(v.createdAt)}</td>
              <td>{v.createdBy ?? ''}</td>
              <td>
                <code className="muted">{v.digest.slice(0, 12)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div>
        {shown === undefined || shown === 1 ? (
          <p className="muted">Pick a version to see what changed from the one before.</p>
        ) : diff.isPending ? (
          <Loading what="the diff" />
        ) : diff.isError ? (
          <ErrorBox error={diff.error} />
        ) : (
          <DiffView patch={diff.data.diff} />
        )}
      </div>
    </div>
  );
}
