import { routes } from '@pilotage/api';
import Form from '@rjsf/core';
import type { RJSFSchema } from '@rjsf/utils';
import { useMutation } from '@tanstack/react-query';
import { lazy, Suspense, useMemo, useState } from 'react';
import { useNavigate } from 'react-router';
import { call } from '../api/client';
import { formValidator, schemaProblems } from '../common/schema-validator';
import { ErrorBox, Loading, Tabs } from '../common/ui';

const CodeEditor = lazy(() => import('../common/code-editor').then((m) => ({ default: m.CodeEditor })));
import { deletePreset, loadPresets, savePreset } from './presets';

type View = 'form' | 'json';

/**
 * The event-data editor: start a run from a form generated from the workflow's `inputs` schema,
 * or from raw JSON checked against the same schema; presets of event data are saved per
 * workflow in this browser. The server checks the data again and names each bad field.
 */
export function StartRunForm({
  workflow,
  version,
  schema,
  disabled,
}: {
  readonly workflow: string;
  readonly version: number;
  readonly schema: object | undefined;
  readonly disabled: boolean;
}) {
  const navigate = useNavigate();
  const formSchema = useMemo<RJSFSchema>(() => ({ type: 'object', ...(schema ?? {}) }) as RJSFSchema, [schema]);
  const [data, setData] = useState<Record<string, unknown>>({});
  const [view, setView] = useState<View>('form');
  const [text, setText] = useState('{}');
  const [textError, setTextError] = useState<string | undefined>();
  const [presets, setPresets] = useState(() => loadPresets(workflow));
  const [presetName, setPresetName] = useState('');
  const start = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      call(routes.startRun, { params: { name: workflow }, body: { data: body, version } }),
    onSuccess: (run) => void navigate(`/runs/${run.id}`),
  });
  const hasInputs = Object.keys((formSchema.properties as object | undefined) ?? {}).length > 0;

  const switchTo = (next: View) => {
    if (next === 'json') setText(JSON.stringify(data, null, 2));
    if (next === 'form' && textError === undefined) {
      try {
        setData(JSON.parse(text) as Record<string, unknown>);
      } catch {
        // the JSON view shows the parse error; the form keeps its data
      }
    }
    setView(next);
  };
  const onText = (value: string) => {
    setText(value);
    try {
      const parsed = JSON.parse(value) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        setTextError('the event data must be a JSON object');
        return;
      }
      const problems = schemaProblems(formSchema, parsed);
      setTextError(
        problems.length === 0 ? undefined : problems.map((p) => `${p.property || 'data'} ${p.message}`).join('; '),
      );
      if (problems.length === 0) setData(parsed as Record<string, unknown>);
    } catch (error) {
      setTextError(`not JSON: ${(error as Error).message}`);
    }
  };

  return (
    <div className="start-run card">
      <div className="card-head">
        <h2>Event data</h2>
        <Tabs<View>
          label="Event data editor"
          value={view}
          onChange={switchTo}
          tabs={[
            { id: 'form', label: 'Form' },
            { id: 'json', label: 'JSON' },
          ]}
        />
        <span className="spacer" />
        <div className="presets">
          <select
            aria-label="Load a preset"
            value=""
            onChange={(e) => {
              const preset = presets[e.target.value];
              if (preset) {
                setData(preset);
                setText(JSON.stringify(preset, null, 2));
              }
            }}
          >
            <option value="">Presets…</option>
            {Object.keys(presets).map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
          <input
            aria-label="Preset name"
            placeholder="Preset name"
            value={presetName}
            onChange={(e) => setPresetName(e.target.value)}
          />
          <button
            type="button"
            disabled={presetName.trim() === ''}
            onClick={() => {
              setPresets(savePreset(workflow, presetName.trim(), data));
              setPresetName('');
            }}
          >
            Save preset
          </button>
          {presetName.trim() !== '' && presets[presetName.trim()] && (
            <button
              type="button"
              className="ghost"
              onClick={() => setPresets(deletePreset(workflow, presetName.trim()))}
            >
              Delete
            </button>
          )}
        </div>
      </div>
      {!hasInputs && view === 'form' && (
        <p className="muted">
          This workflow declares no inputs: start it as it is, or give free-form data in the JSON view.
        </p>
      )}
      {view === 'form' ? (
        <Form
          schema={formSchema}
          validator={formValidator}
          formData={data}
          onChange={(e) => setData((e.formData ?? {}) as Record<string, unknown>)}
          onSubmit={(e) => start.mutate((e.formData ?? {}) as Record<string, unknown>)}
          onError={() => undefined}
          noHtml5Validate
          showErrorList={false}
          disabled={disabled || start.isPending}
        >
          <div className="form-actions">
            <button type="submit" className="primary" disabled={disabled || start.isPending}>
              {start.isPending ? 'Starting…' : 'Start run'}
            </button>
          </div>
        </Form>
      ) : (
        <>
          <Suspense fallback={<Loading what="the JSON editor" />}>
            <CodeEditor
              label="Event data (JSON)"
              language="json"
              value={text}
              onChange={onText}
              schema={formSchema}
              minHeight={200}
            />
          </Suspense>
          {textError && (
            <p className="error" role="alert">
              {textError}
            </p>
          )}
          <div className="form-actions">
            <button
              type="button"
              className="primary"
              disabled={disabled || start.isPending || textError !== undefined}
              onClick={() => start.mutate(data)}
            >
              {start.isPending ? 'Starting…' : 'Start run'}
            </button>
          </div>
        </>
      )}
      {disabled && <p className="muted small">Starting needs an enabled workflow and a token with the run scope.</p>}
      {start.error && <ErrorBox error={start.error} />}
    </div>
  );
}
