import { useMemo, useState } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router';
import { useTheme } from '../common/theme';
import { useSession } from '../session/session';
import { useShortcuts, type Shortcut } from './shortcuts';

/** The frame of every page once signed in: the top bar (sections, theme, who, sign-out) and the page. */
export function Layout() {
  const { session, signOut } = useSession();
  const { theme, toggle } = useTheme();
  const navigate = useNavigate();
  const [help, setHelp] = useState(false);
  const shortcuts = useMemo<Shortcut[]>(
    () => [
      { keys: 'g r', label: 'Runs', run: () => void navigate('/runs') },
      { keys: 'g w', label: 'Workflows', run: () => void navigate('/workflows') },
      { keys: 'g c', label: 'Components', run: () => void navigate('/components') },
      { keys: 'g n', label: 'New workflow', run: () => void navigate('/workflows/new/edit') },
      {
        keys: '/',
        label: 'Search or filter this page',
        run: () => document.querySelector<HTMLInputElement>('[data-search]')?.focus(),
      },
      { keys: 't', label: 'Light or dark theme', run: toggle },
      { keys: '?', label: 'This help', run: () => setHelp((h) => !h) },
    ],
    [navigate, toggle],
  );
  useShortcuts(shortcuts);
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/runs" className="brand" aria-label="Pilotage home">
          <img src="/favicon.svg" alt="" width={22} height={22} />
          <span>Pilotage</span>
        </NavLink>
        <nav className="sections" aria-label="Sections">
          <NavLink to="/runs">Runs</NavLink>
          <NavLink to="/workflows">Workflows</NavLink>
          <NavLink to="/components">Components</NavLink>
        </nav>
        <div className="topbar-end">
          <button type="button" className="ghost" onClick={() => setHelp(true)} title="Keyboard shortcuts (?)">
            ⌨<span className="sr-only">Keyboard shortcuts</span>
          </button>
          <button
            type="button"
            className="ghost"
            onClick={toggle}
            title={`Switch to the ${theme === 'dark' ? 'light' : 'dark'} theme (t)`}
            aria-label={`Switch to the ${theme === 'dark' ? 'light' : 'dark'} theme`}
          >
            {theme === 'dark' ? '☀' : '☾'}
          </button>
          <span className="who" title={`scopes: ${session?.scopes.join(', ') ?? ''}`}>
            {session?.name}
          </span>
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" className="page" tabIndex={-1}>
        <Outlet />
      </main>
      {help && (
        <div className="dialog-backdrop" onClick={() => setHelp(false)}>
          <div
            className="dialog"
            role="dialog"
            aria-modal="true"
            aria-labelledby="help-title"
            onClick={(e) => e.stopPropagation()}
            onKeyDown={(e) => e.key === 'Escape' && setHelp(false)}
          >
            <h2 id="help-title">Keyboard shortcuts</h2>
            <table className="shortcuts">
              <tbody>
                {shortcuts.map((s) => (
                  <tr key={s.keys}>
                    <td>
                      {s.keys.split(' ').map((k) => (
                        <kbd key={k}>{k}</kbd>
                      ))}
                    </td>
                    <td>{s.label}</td>
                  </tr>
                ))}
                <tr>
                  <td>
                    <kbd>←</kbd>
                    <kbd>↑</kbd>
                    <kbd>→</kbd>
                    <kbd>↓</kbd>
                  </td>
                  <td>Move between actions of a graph</td>
                </tr>
                <tr>
                  <td>
                    <kbd>Enter</kbd>
                  </td>
                  <td>Open the focused action</td>
                </tr>
                <tr>
                  <td>
                    <kbd>Esc</kbd>
                  </td>
                  <td>Close a panel or dialog</td>
                </tr>
              </tbody>
            </table>
            <button type="button" autoFocus onClick={() => setHelp(false)}>
              Close
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
