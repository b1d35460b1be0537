import { useState, type FormEvent } from 'react';
import { errorText } from '../api/client';
import { useSession } from './session';

/** The sign-in page: an API token, entered once; it is exchanged for a session cookie and never stored by the page. */
export function SignInPage() {
  const { signIn, notice } = useSession();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(token);
      setToken('');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <form className="sign-in-card" onSubmit={(e) => void submit(e)} aria-labelledby="sign-in-title">
        <div className="brand brand-large">
          <img src="/favicon.svg" alt="" width={36} height={36} />
          <span>Pilotage</span>
        </div>
        <h1 id="sign-in-title">Sign in</h1>
        <p className="muted">
          Paste an API token. The server exchanges it for a session cookie; the page never keeps the token. Create one
          with <code>pilotage token create --name me --scope run</code>, or use the first admin token the server wrote
          in its data folder (<code>admin-token</code>).
        </p>
        {notice && !error && <p className="notice">{notice}</p>}
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          autoFocus
          placeholder="plt_…"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          required
        />
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button className="primary" type="submit" disabled={busy || token.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
