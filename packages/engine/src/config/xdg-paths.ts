import { isAbsolute, join } from 'node:path';

/** Where Pilotage keeps its files by default, per the XDG Base Directory specification. */
export interface PilotagePaths {
  /** `$XDG_CONFIG_HOME/pilotage/config.yaml`, else `~/.config/pilotage/config.yaml` */
  readonly configFile: string;
  /** `$XDG_DATA_HOME/pilotage`, else `~/.local/share/pilotage`: the store, workspaces, keys */
  readonly dataDir: string;
}

/**
 * The one rule for Pilotage's default locations: an XDG variable counts when it is set to an
 * absolute path (the spec says to ignore empty and relative values), else the spec's default
 * under `home`. Pure.
 */
export function pilotagePaths(env: Readonly<Record<string, string | undefined>>, home: string): PilotagePaths {
  const base = (name: string, fallback: string): string => {
    const value = env[name];
    return value !== undefined && value !== '' && isAbsolute(value) ? value : join(home, fallback);
  };
  return {
    configFile: join(base('XDG_CONFIG_HOME', '.config'), 'pilotage', 'config.yaml'),
    dataDir: join(base('XDG_DATA_HOME', join('.local', 'share')), 'pilotage'),
  };
}
