import { homedir } from 'node:os';
import { loadConfig, type Config } from '../config/config.js';
import { readConfigFile } from '../config/config-file.js';
import { parseTraceContext, type TraceContext } from '../domain/trace-context.js';

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

/**
 * The trace this CLI process runs in: TRACEPARENT and TRACESTATE of its environment (as a traced
 * CI job sets them). A local run's spans join it; requests to a server carry it as headers.
 */
export function callerTraceContext(): TraceContext | undefined {
  return parseTraceContext(process.env.TRACEPARENT, process.env.TRACESTATE);
}

/** `callerTraceContext` as HTTP headers (none when there is none). */
export function callerTraceHeaders(): Record<string, string> {
  const context = callerTraceContext();
  if (context === undefined) return {};
  return context.tracestate === undefined
    ? { traceparent: context.traceparent }
    : { traceparent: context.traceparent, tracestate: context.tracestate };
}
