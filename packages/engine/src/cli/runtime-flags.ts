import { homedir } from 'node:os';
import { loadConfig, type Config } from '../config/config.js';
import { readConfigFile } from '../config/config-file.js';

type Flags = Partial<Record<string, string | number | boolean | readonly string[] | undefined>>;

/** The config for a CLI command: flags over env over defaults. */
export function configFrom(flags: Flags): Config {
  const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  return loadConfig({ env: process.env, home: homedir(), flags: defined });
}

/**
 * The config for a long-running command (`serve`): flags over env over the config file (`file`,
 * else PILOTAGE_CONFIG) over defaults.
 */
export async function configWithFile(flags: Flags, file: string | undefined): Promise<Config> {
  const path = file ?? process.env.PILOTAGE_CONFIG;
  const fromFile = path === undefined || path === '' ? {} : await readConfigFile(path);
  const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  return loadConfig({ env: process.env, home: homedir(), flags: defined, file: fromFile });
}
