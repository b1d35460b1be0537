import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { json } from '@codemirror/lang-json';
import { yaml } from '@codemirror/lang-yaml';
import {
  bracketMatching,
  foldGutter,
  indentOnInput,
  syntaxHighlighting,
  defaultHighlightStyle,
} from '@codemirror/language';
import { forceLinting, linter, lintGutter, type Diagnostic } from '@codemirror/lint';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import { Compartment, EditorState, type Extension } from '@codemirror/state';
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from '@codemirror/view';
import { jsonSchema } from 'codemirror-json-schema';
import { yamlSchema } from 'codemirror-json-schema/yaml';
import type { JSONSchema7 } from 'json-schema';
import { useEffect, useRef } from 'react';
import { cspNonce } from './csp-nonce';

/** An issue the server reported (1-based line and column), shown inline. */
export interface ServerIssue {
  readonly line: number;
  readonly column: number;
  readonly message: string;
  readonly path?: string;
}

export interface CodeEditorProps {
  readonly value: string;
  readonly onChange: (text: string) => void;
  readonly language: 'yaml' | 'json';
  /** JSON Schema of the document: completion, hover help and inline errors */
  readonly schema?: object;
  /** the server's own validation issues, shown inline beside the schema's */
  readonly issues?: readonly ServerIssue[];
  readonly label: string;
  readonly minHeight?: number;
}

/** The diagnostics of server issues in `state`'s document. */
function issueDiagnostics(state: EditorState, issues: readonly ServerIssue[]): Diagnostic[] {
  return issues.map((issue) => {
    const lineNo = Math.min(Math.max(1, issue.line), state.doc.lines);
    const line = state.doc.line(lineNo);
    const from = Math.min(line.to, line.from + Math.max(0, issue.column - 1));
    return {
      from,
      to: Math.max(from, line.to),
      severity: 'error',
      source: 'server',
      message: issue.path ? `${issue.path}: ${issue.message}` : issue.message,
    };
  });
}

/**
 * A CodeMirror 6 editor for YAML or JSON, with the document's JSON Schema (codemirror-json-schema:
 * completion, hover, inline errors) and the server's issues as inline errors too. The text is
 * controlled: a `value` that differs from the editor's replaces it.
 */
export function CodeEditor({
  value,
  onChange,
  language,
  schema,
  issues = [],
  label,
  minHeight = 240,
}: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;
  const issuesRef = useRef(issues);
  issuesRef.current = issues;
  const schemaPart = useRef(new Compartment());

  useEffect(() => {
    const languageOf = (s: object | undefined): Extension =>
      s === undefined
        ? language === 'yaml'
          ? yaml()
          : json()
        : language === 'yaml'
          ? yamlSchema(s as JSONSchema7)
          : jsonSchema(s as JSONSchema7);
    const state = EditorState.create({
      doc: value,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        foldGutter(),
        drawSelection(),
        history(),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        autocompletion(),
        highlightActiveLine(),
        highlightSelectionMatches(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        lintGutter(),
        linter((v) => issueDiagnostics(v.state, issuesRef.current), { delay: 200 }),
        keymap.of([
          ...closeBracketsKeymap,
          ...defaultKeymap,
          ...searchKeymap,
          ...historyKeymap,
          ...completionKeymap,
          indentWithTab,
        ]),
        EditorState.tabSize.of(2),
        EditorView.cspNonce.of(cspNonce()),
        EditorView.contentAttributes.of({ 'aria-label': label }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) onChangeRef.current(update.state.doc.toString());
        }),
        schemaPart.current.of(languageOf(schema)),
      ],
    });
    const editor = new EditorView({ state, parent: host.current! });
    view.current = editor;
    return () => {
      editor.destroy();
      view.current = null;
    };
    // the editor is created once; value, schema and issues are pushed in by the effects below
  }, [language]);

  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const current = editor.state.doc.toString();
    if (current !== value) editor.dispatch({ changes: { from: 0, to: current.length, insert: value } });
  }, [value]);

  useEffect(() => {
    const editor = view.current;
    if (!editor || schema === undefined) return;
    editor.dispatch({
      effects: schemaPart.current.reconfigure(
        language === 'yaml' ? yamlSchema(schema as JSONSchema7) : jsonSchema(schema as JSONSchema7),
      ),
    });
  }, [schema, language]);

  useEffect(() => {
    // re-run the linters so new server issues show at once
    const editor = view.current;
    if (editor) forceLinting(editor);
  }, [issues]);

  return <div className="code-editor" ref={host} style={{ minHeight }} />;
}
