import { routes, type SessionInfo } from '@pilotage/api';
import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiError, call, onUnauthorized, setCsrf } from '../api/client';

/** The signed-in session, and how to sign in and out. */
export interface SessionState {
  /** undefined while the first check runs; null when signed out */
  readonly session: SessionInfo | null | undefined;
  /** a message for the sign-in page (why the user was signed out) */
  readonly notice: string | undefined;
  signIn(token: string): Promise<void>;
  signOut(): Promise<void>;
  /** true when the session's token holds `scope` (each scope includes the ones before it) */
  can(scope: 'read' | 'run' | 'admin'): boolean;
}

const SessionContext = createContext<SessionState | undefined>(undefined);

const RANK = { read: 0, run: 1, admin: 2 } as const;

/**
 * Holds the session: asks the server on load (GET /v1/session: the cookie is HttpOnly, so the
 * page cannot read it), signs in by exchanging an API token for the cookie, and drops to the
 * sign-in page whenever the server answers 401 (signed out elsewhere, token revoked, expired).
 */
export function SessionProvider({ children }: { readonly children: ReactNode }) {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>();
  const queries = useQueryClient();

  const adopt = useCallback((info: SessionInfo | null) => {
    setCsrf(info?.csrf);
    setSession(info);
  }, []);

  useEffect(() => {
    let live = true;
    call(routes.getSession, {}).then(
      (info) => live && adopt(info ?? null),
      (error: unknown) => {
        if (!live) return;
        adopt(null);
        if (!(error instanceof ApiError && error.status === 401))
          setNotice(`cannot reach the server: ${String(error)}`);
      },
    );
    return () => {
      live = false;
    };
  }, [adopt]);

  useEffect(
    () =>
      onUnauthorized(() => {
        setNotice('Your session has ended (signed out, expired, or its token was revoked). Sign in again.');
        adopt(null);
        queries.clear();
      }),
    [adopt, queries],
  );

  const value = useMemo<SessionState>(
    () => ({
      session,
      notice,
      async signIn(token) {
        const info = await call(routes.signIn, { body: { token } });
        setNotice(undefined);
        adopt(info);
      },
      async signOut() {
        await call(routes.signOut, {}).catch(() => undefined);
        queries.clear();
        setNotice('Signed out.');
        adopt(null);
      },
      can(scope) {
        return (session?.scopes ?? []).some((held) => RANK[held] >= RANK[scope]);
      },
    }),
    [session, notice, adopt, queries],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (state === undefined) throw new Error('useSession outside SessionProvider');
  return state;
}
