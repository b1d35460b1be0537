import { isAbsolute, join } from 'node:path';

/**
 * Where the embedded SQLite database lives by default: `$XDG_DATA_HOME/pilotage/pilotage.db`,
 * or `HOME/.local/share/pilotage/pilotage.db` when XDG_DATA_HOME is unset, empty or relative
 * (the XDG spec says to ignore relative values). `openStore` creates the folder.
 */
export function defaultDatabasePath(env: NodeJS.ProcessEnv, home: string): string {
  const xdg = env['XDG_DATA_HOME'];
  const base = xdg !== undefined && xdg !== '' && isAbsolute(xdg) ? xdg : join(home, '.local', 'share');
  return join(base, 'pilotage', 'pilotage.db');
}
