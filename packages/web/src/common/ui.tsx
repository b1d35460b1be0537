import type { ReactNode } from 'react';
import { errorText } from '../api/client';

/** Small building blocks every page uses. */

const STATE_LABEL: Record<string, string> = {
  queued: 'Queued',
  pending: 'Pending',
  starting: 'Starting',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  errored: 'Errored',
  cancelled: 'Cancelled',
  skipped: 'Skipped',
  waiting: 'Waiting',
};

/** A run or task run state as a coloured badge (unknown states render neutrally). */
export function StateBadge({ state, small }: { readonly state: string | null; readonly small?: boolean }) {
  const name = state ?? 'pending';
  return (
    <span className={`badge state-${name}${small ? ' badge-small' : ''}`} data-state={name}>
      <StateIcon state={name} />
      {STATE_LABEL[name] ?? name}
    </span>
  );
}

/** The icon of a state (text symbols that the default fonts have: no icon font needed). */
export function StateIcon({ state }: { readonly state: string }) {
  const glyph: Record<string, string> = {
    succeeded: '✓',
    failed: '✕',
    errored: '!',
    cancelled: '⊘',
    skipped: '↷',
    running: '●',
    starting: '◐',
    queued: '○',
    pending: '○',
    waiting: '‖',
  };
  return (
    <span className={`state-icon state-${state}`} aria-hidden="true">
      {glyph[state] ?? '•'}
    </span>
  );
}

/** An empty list or page: what is missing and what to do about it. */
/** The connection of a live view: connecting, live, reconnecting, or ended (nothing shown). */
export type Live = 'connecting' | 'live' | 'reconnecting' | 'ended';

/** Where a page shows whether its live updates flow. */
export function LiveBadge({ live }: { readonly live: Live }) {
  const text = { live: '● live', ended: '', reconnecting: '◌ reconnecting', connecting: '◌ connecting' }[live];
  return (
    <span className={`live live-${live}`} title="live updates" data-live={live}>
      {text}
    </span>
  );
}

export function EmptyState({
  title,
  children,
  action,
}: {
  readonly title: string;
  readonly children?: ReactNode;
  readonly action?: ReactNode;
}) {
  return (
    <div className="empty-state" role="status">
      <div className="empty-title">{title}</div>
      {children && <div className="empty-body">{children}</div>}
      {action && <div className="empty-action">{action}</div>}
    </div>
  );
}

/** An error as the server worded it, with its code; `retry` offers to try again. */
export function ErrorBox({ error, retry }: { readonly error: unknown; readonly retry?: () => void }) {
  const code = (error as { code?: string }).code;
  const details = (error as { details?: unknown }).details;
  const fields = Array.isArray(details)
    ? (details as { field?: string; path?: string; line?: number; column?: number; message?: string }[])
    : [];
  return (
    <div className="error-box" role="alert">
      <div className="error-title">
        {code && <code className="error-code">{code}</code>} {errorText(error).split('\n')[0]}
      </div>
      {fields.length > 1 && (
        <ul className="error-list">
          {fields.slice(0, 20).map((f, i) => (
            <li key={i}>
              {f.field ?? (f.line !== undefined ? `line ${f.line}:${f.column ?? 1} ${f.path ?? ''}` : '')}: {f.message}
            </li>
          ))}
        </ul>
      )}
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** A line of loading text that does not jump the layout. */
export function Loading({ what }: { readonly what: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </div>
  );
}

/** Tabs with keyboard support (arrow keys move between tabs). */
export function Tabs<T extends string>({
  tabs,
  value,
  onChange,
  label,
}: {
  readonly tabs: readonly { readonly id: T; readonly label: ReactNode }[];
  readonly value: T;
  readonly onChange: (id: T) => void;
  readonly label: string;
}) {
  return (
    <div className="tabs" role="tablist" aria-label={label}>
      {tabs.map((tab, i) => (
        <button
          key={tab.id}
          type="button"
          role="tab"
          id={`tab-${tab.id}`}
          aria-selected={tab.id === value}
          tabIndex={tab.id === value ? 0 : -1}
          className={tab.id === value ? 'tab active' : 'tab'}
          onClick={() => onChange(tab.id)}
          onKeyDown={(e) => {
            const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
            if (step === 0) return;
            e.preventDefault();
            const next = tabs[(i + step + tabs.length) % tabs.length]!;
            onChange(next.id);
            document.getElementById(`tab-${next.id}`)?.focus();
          }}
        >
          {tab.label}
        </button>
      ))}
    </div>
  );
}

/** Pretty JSON in a scrollable block. */
export function JsonView({ value, empty }: { readonly value: unknown; readonly empty?: string }) {
  const isEmpty =
    value === undefined ||
    value === null ||
    (typeof value === 'object' && Object.keys(value as object).length === 0 && !Array.isArray(value));
  if (isEmpty) return <p className="muted">{empty ?? 'Nothing.'}</p>;
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}
