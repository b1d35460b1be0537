import { routes } from '@pilotage/api';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { call } from '../api/client';
import { CodeEditor } from '../common/code-editor';
import { ErrorBox } from '../common/ui';
import { useServerCheck } from '../common/use-server-check';

const TEMPLATE = `apiVersion: pilotage.dev/v1
kind: Component
name: my-component
version: 1.0.0
description: What it does, in one line
image: registry.example.com/my-component:1.0.0
command: ["sh", "-c", "echo hello"]
inputs:
  type: object
  properties:
    target: { type: string, description: what to work on }
outputs:
  type: object
  properties:
    result: { type: string }
`;

/**
 * `/components/new`: register a component version from its component.yaml, with completion and
 * inline errors from the component JSON Schema and the server's own parser (line and column).
 * `?from=name@version` starts from that version's text.
 */
export function RegisterComponentPage() {
  const [params] = useSearchParams();
  const from = params.get('from');
  const navigate = useNavigate();
  const [text, setText] = useState(TEMPLATE);
  const schema = useQuery({
    queryKey: ['schema', 'component'],
    queryFn: () => call(routes.fileSchema, { params: { kind: 'component' } }),
    staleTime: Infinity,
  });
  useEffect(() => {
    if (!from || !from.includes('@')) return;
    const [name, version] = [from.slice(0, from.lastIndexOf('@')), from.slice(from.lastIndexOf('@') + 1)];
    call(routes.getComponent, { params: { name, version } }).then(
      (d) => setText(d.source),
      () => undefined,
    );
  }, [from]);
  const check = useServerCheck(routes.checkComponent, text, 'component.yaml');
  const register = useMutation({
    mutationFn: () => call(routes.registerComponent, { body: { source: text, file: 'component.yaml' } }),
    onSuccess: (c) => void navigate(`/components/${c.name}`),
  });
  return (
    <section aria-labelledby="reg-title">
      <div className="page-head">
        <h1 id="reg-title">Register a component</h1>
        <span className="muted small">
          {check.checking
            ? 'checking…'
            : check.issues.length === 0
              ? '✓ the server accepts it'
              : `${check.issues.length} problem(s)`}
        </span>
        <span className="spacer" />
        <Link to="/components">Cancel</Link>
        <button
          type="button"
          className="primary"
          disabled={register.isPending || check.issues.length > 0}
          onClick={() => register.mutate()}
        >
          {register.isPending ? 'Registering…' : 'Register'}
        </button>
      </div>
      <p className="muted small">
        Versions are immutable: to change a component, register a new version. Ctrl-Space completes fields from the
        component schema; errors show inline.
      </p>
      {register.error && <ErrorBox error={register.error} />}
      <CodeEditor
        label="component.yaml"
        language="yaml"
        value={text}
        onChange={setText}
        {...(schema.data ? { schema: schema.data } : {})}
        issues={check.issues}
        minHeight={420}
      />
    </section>
  );
}
