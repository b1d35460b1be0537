import type { CheckReply, RouteSpec } from '@pilotage/api';
import { useEffect, useState } from 'react';
import { ApiError, call } from '../api/client';
import type { ServerIssue } from './code-editor';

/**
 * The server's own issues with a file being edited, asked (debounced) of a `check` route (which
 * answers 200 with the verdict, so a page with errors logs none): each with its line and column,
 * for inline errors. A text the server accepts has none.
 */
export function useServerCheck(
  spec: RouteSpec & { body: unknown },
  text: string,
  file: string,
  delayMs = 400,
): { issues: ServerIssue[]; checking: boolean; error: string | undefined } {
  const [issues, setIssues] = useState<ServerIssue[]>([]);
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    if (text.trim() === '') {
      setIssues([]);
      return;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => {
      setChecking(true);
      call(spec, { body: { source: text, file } } as never, { signal: abort.signal })
        .then((answer) => {
          setIssues([...(answer as CheckReply).issues]);
          setError(undefined);
        })
        .catch((err: unknown) => {
          if (abort.signal.aborted) return;
          if (err instanceof ApiError && err.status === 400) {
            setIssues([{ line: 1, column: 1, message: err.message }]);
          } else {
            setError(err instanceof Error ? err.message : String(err));
          }
        })
        .finally(() => !abort.signal.aborted && setChecking(false));
    }, delayMs);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [spec, text, file, delayMs]);
  return { issues, checking, error };
}
