import { homedir } from 'node:os';
import { loadConfig, type Config } from '../config/config.js';

/** The config for a CLI command: flags over env over defaults. */
export function configFrom(
  flags: Partial<Record<string, string | number | boolean | readonly string[] | undefined>>,
): Config {
  const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  return loadConfig({ env: process.env, home: homedir(), flags: defined });
}
