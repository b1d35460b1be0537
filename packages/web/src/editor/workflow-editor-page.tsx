import { routes } from '@pilotage/api';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createTwoFilesPatch } from 'diff';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { call } from '../api/client';
import { CodeEditor, type ServerIssue } from '../common/code-editor';
import { DiffView } from '../common/diff-view';
import { ErrorBox, Loading, Tabs } from '../common/ui';
import { useServerCheck } from '../common/use-server-check';
import { ComponentCard, useComponents } from '../components/components-page';
import type { LaneStage } from '../graph/lanes';
import { WorkflowGraph, type ActionView, type GraphEditing } from '../graph/workflow-graph';
import { ActionInspector, type InspectorEdits } from './action-inspector';
import { mappingProblems, referencesIn } from './data-map';
import { useCatalog } from './use-catalog';
import {
  addAction,
  addStage,
  findAction,
  moveStage,
  newWorkflowText,
  readWorkflow,
  removeAction,
  removeStage,
  renameAction,
  renameProblem,
  renameStage,
  setActionField,
  setWith,
  setWorkflowName,
  type EditorModel,
} from './workflow-doc';

type View = 'graph' | 'yaml';

/**
 * `/workflows/:name/edit` (and `/workflows/new/edit`): the visual editor. The YAML text is the
 * one truth: the graph (stages as lanes, components dragged in from the palette), the action
 * inspector (form and data map) and the YAML tab (completion and inline errors from the
 * workflow schema and the server's own check) all read and write it, so they never disagree.
 * Save stores a new version after showing its diff against the last.
 */
export function WorkflowEditorPage() {
  const { name = 'new' } = useParams();
  const isNew = name === 'new';
  const workflow = useQuery({
    queryKey: ['workflow', name],
    queryFn: () => call(routes.getWorkflow, { params: { name } }),
    enabled: !isNew,
  });
  const latest = workflow.data?.latestVersion;
  const version = useQuery({
    queryKey: ['workflow', name, latest],
    queryFn: () => call(routes.getWorkflowVersion, { params: { name, version: latest! } }),
    enabled: latest !== undefined,
  });
  if (!isNew && (workflow.isPending || version.isPending)) return <Loading what={`workflow ${name}`} />;
  if (workflow.isError) return <ErrorBox error={workflow.error} />;
  if (version.isError) return <ErrorBox error={version.error} />;
  const base = isNew ? '' : (version.data?.source ?? '');
  return <Editor key={name} original={base} initial={isNew ? newWorkflowText() : base} isNew={isNew} />;
}

function Editor({
  original,
  initial,
  isNew,
}: {
  readonly original: string;
  readonly initial: string;
  readonly isNew: boolean;
}) {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [params, setParams] = useSearchParams();
  const [text, setText] = useState(initial);
  // the text as last rendered, for edits that must answer at once (a refused rename)
  const textRef = useRef(text);
  textRef.current = text;
  const [view, setView] = useState<View>('graph');
  const [toast, setToast] = useState<string | undefined>();
  const [reviewing, setReviewing] = useState(false);
  const [q, setQ] = useState('');
  const selected = params.get('action') ?? undefined;
  const select = useCallback(
    (action: string | undefined) => {
      const next = new URLSearchParams(params);
      if (action === undefined) next.delete('action');
      else next.set('action', action);
      setParams(next, { replace: true });
    },
    [params, setParams],
  );

  // the last model that parsed: the graph keeps showing it while the YAML has a syntax error
  const read = useMemo(() => readWorkflow(text), [text]);
  const [lastGood, setLastGood] = useState<EditorModel | undefined>(() => ('model' in read ? read.model : undefined));
  useEffect(() => {
    if ('model' in read) setLastGood(read.model);
  }, [read]);
  const model = 'model' in read ? read.model : lastGood;
  const syntax = 'problem' in read ? read.problem : undefined;

  const refs = useMemo(
    () => (model?.stages ?? []).flatMap((s) => s.actions.flatMap((a) => (a.component ? [a.component] : []))),
    [model],
  );
  const catalog = useCatalog(refs);
  const problems = useMemo(() => (model ? mappingProblems(model, catalog) : []), [model, catalog]);
  const schema = useQuery({
    queryKey: ['schema', 'workflow'],
    queryFn: () => call(routes.fileSchema, { params: { kind: 'workflow' } }),
    staleTime: Infinity,
  });
  const check = useServerCheck(routes.checkWorkflow, text, `${model?.name || 'workflow'}.yaml`);
  const issues: ServerIssue[] = syntax ? [{ ...syntax }] : check.issues;
  const components = useComponents(q);

  const tell = useCallback((message: string) => {
    setToast(message);
    setTimeout(() => setToast((t) => (t === message ? undefined : t)), 5000);
  }, []);
  const editing = useMemo<GraphEditing>(
    () => ({
      onDropComponent(stageIndex, ref) {
        setText((t) => {
          const { source, name } = addAction(t, stageIndex, ref);
          setTimeout(() => select(name), 0);
          return source;
        });
      },
      onMoveStage: (index, by) => setText((t) => moveStage(t, index, by)),
      onRemoveStage: (index) => setText((t) => removeStage(t, index)),
      onRenameStage(index) {
        const current = model?.stages[index]?.name ?? '';
        const next = window.prompt('Stage name (lowercase letters, digits and dashes)', current);
        if (next && next !== current) setText((t) => renameStage(t, index, next.trim()));
      },
    }),
    [model, select],
  );

  const stages = useMemo<LaneStage[]>(
    () =>
      (model?.stages ?? []).map((s) => ({
        name: s.name,
        type: s.type,
        actions: s.actions.map((a) => ({
          name: a.name,
          needs: [...new Set(referencesIn(a.with).map((r) => r.action))],
        })),
      })),
    [model],
  );
  const actionView = useCallback(
    (name: string): ActionView => {
      const at = model ? findAction(model, name) : undefined;
      const action = at && model ? model.stages[at.stage]!.actions[at.action] : undefined;
      const mine = problems.filter((p) => p.action === name);
      const mapped = action ? Object.values(action.with).filter((v) => referencesIn(v).length > 0).length : 0;
      return {
        detail: action?.component ?? 'inline run',
        ...(mine[0]
          ? { message: mine[0].message, problem: true }
          : mapped > 0
            ? { message: `${mapped} input(s) mapped` }
            : {}),
      };
    },
    [model, problems],
  );

  const at = model && selected ? findAction(model, selected) : undefined;
  const selectedAction = at && model ? model.stages[at.stage]!.actions[at.action] : undefined;
  const edits = useMemo<InspectorEdits | undefined>(
    () =>
      selected === undefined
        ? undefined
        : {
            setWith: (key, value) => setText((t) => setWith(t, selected, key, value)),
            setField: (field, value) => {
              setText((t) => setActionField(t, selected, field, value));
              if (field === 'name' && typeof value === 'string') select(value);
            },
            rename: (to) => {
              const problem = renameProblem(textRef.current, selected, to);
              if (problem !== undefined) return problem;
              setText((t) => renameAction(t, selected, to));
              select(to);
              return undefined;
            },
            remove: () => {
              setText((t) => removeAction(t, selected));
              select(undefined);
            },
            tell,
          },
    [selected, select, tell],
  );

  const save = useMutation({
    mutationFn: () =>
      call(routes.putWorkflow, {
        params: { name: model?.name ?? '' },
        body: { source: text, file: `${model?.name ?? 'workflow'}.yaml` },
      }),
    onSuccess: (answer) => {
      setReviewing(false);
      void queries.invalidateQueries({ queryKey: ['workflow', answer.name] });
      void queries.invalidateQueries({ queryKey: ['workflows'] });
      void navigate(`/workflows/${answer.name}`, { state: { saved: answer.version } });
    },
  });
  const changed = text !== original;
  const blocking = syntax !== undefined || check.issues.length > 0 || !model?.name;
  const patch = useMemo(
    () =>
      reviewing
        ? createTwoFilesPatch(isNew ? '(new)' : `${model?.name}@latest`, `${model?.name}@new`, original, text)
        : '',
    [reviewing, original, text, isNew, model?.name],
  );

  return (
    <section className={`editor${selectedAction ? '' : ' no-panel'}`} aria-label="Workflow editor">
      <div className="editor-head">
        {isNew ? (
          <input
            className="wf-name"
            aria-label="Workflow name"
            value={model?.name ?? ''}
            onChange={(e) => setText((t) => setWorkflowName(t, e.target.value))}
          />
        ) : (
          <h1>{model?.name}</h1>
        )}
        <span className="chip">{isNew ? 'new workflow' : 'editing: saving makes a new version'}</span>
        <span className={`small ${blocking ? 'error' : 'muted'}`} aria-live="polite">
          {syntax
            ? `YAML error at line ${syntax.line}`
            : check.checking
              ? 'checking…'
              : check.issues.length > 0
                ? `${check.issues.length} problem(s) the server reports`
                : '✓ the server accepts it'}
          {problems.length > 0 && ` · ${problems.length} data map problem(s)`}
        </span>
        <span className="spacer" />
        {!isNew && <Link to={`/workflows/${model?.name ?? ''}`}>Cancel</Link>}
        <button type="button" onClick={() => setText((t) => addStage(t, 'stage'))}>
          + Stage
        </button>
        <button type="button" className="primary" disabled={!changed || blocking} onClick={() => setReviewing(true)}>
          Save…
        </button>
      </div>

      <div className="palette" aria-label="Components">
        <input
          type="search"
          data-search
          placeholder="Find a component"
          aria-label="Find a component"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
        <div className="muted small">Drag a component into a stage.</div>
        <div className="palette-list">
          {(components.data ?? []).map((c) => (
            <ComponentCard key={c.name} c={c} draggable />
          ))}
          {components.data?.length === 0 && (
            <p className="muted small">
              No component {q ? `matches “${q}”` : 'is registered'}. <Link to="/components/new">Register one</Link>.
            </p>
          )}
        </div>
      </div>

      <div className="editor-main">
        <Tabs<View>
          label="Editor views"
          value={view}
          onChange={setView}
          tabs={[
            { id: 'graph', label: 'Graph' },
            { id: 'yaml', label: 'YAML' },
          ]}
        />
        {syntax && view === 'graph' && (
          <p className="error">
            The YAML has a syntax error (line {syntax.line}): the graph shows the last version that parsed. Fix it in
            the YAML tab.
          </p>
        )}
        {view === 'graph' ? (
          <WorkflowGraph
            stages={stages}
            actionView={actionView}
            selected={selected}
            onSelect={(a) => select(a === selected ? undefined : a)}
            editing={editing}
          />
        ) : (
          <CodeEditor
            label="Workflow YAML"
            language="yaml"
            value={text}
            onChange={setText}
            {...(schema.data ? { schema: schema.data } : {})}
            issues={issues}
          />
        )}
        {(check.issues.length > 0 || check.error) && (
          <ul className="problems" aria-label="Problems the server reports">
            {check.error && <li>{check.error}</li>}
            {check.issues.slice(0, 8).map((issue, i) => (
              <li key={i}>
                <button type="button" className="link" onClick={() => setView('yaml')}>
                  line {issue.line}:{issue.column}
                </button>{' '}
                {issue.path ? `${issue.path}: ` : ''}
                {issue.message}
              </li>
            ))}
          </ul>
        )}
      </div>

      {selectedAction && model && at && edits && (
        <ActionInspector
          key={selectedAction.name}
          model={model}
          action={selectedAction}
          stage={at.stage}
          catalog={catalog}
          problems={problems.filter((p) => p.action === selectedAction.name)}
          edits={edits}
        />
      )}

      {reviewing && (
        <div className="dialog-backdrop" onClick={() => setReviewing(false)}>
          <div
            className="dialog wide"
            role="dialog"
            aria-modal="true"
            aria-labelledby="review-title"
            onClick={(e) => e.stopPropagation()}
            onKeyDown={(e) => e.key === 'Escape' && setReviewing(false)}
          >
            <h2 id="review-title">{isNew ? `Create ${model?.name}` : `Save ${model?.name} as a new version`}</h2>
            <p className="muted small">
              What changes against {isNew ? 'nothing (a new workflow)' : 'the latest version'}:
            </p>
            <DiffView patch={patch} />
            {problems.length > 0 && (
              <p className="notice">
                {problems.length} data map problem(s) remain; the server may still accept the file.
              </p>
            )}
            {save.error && <ErrorBox error={save.error} />}
            <div className="dialog-actions">
              <button type="button" onClick={() => setReviewing(false)}>
                Keep editing
              </button>
              <button
                type="button"
                className="primary"
                autoFocus
                disabled={save.isPending}
                onClick={() => save.mutate()}
              >
                {save.isPending ? 'Saving…' : isNew ? 'Create' : 'Save version'}
              </button>
            </div>
          </div>
        </div>
      )}
      {toast && (
        <div className="toast" role="status">
          {toast}
        </div>
      )}
    </section>
  );
}
