import { homedir } from 'node:os';
import { loadConfig, type Config, type Overrides } from '../config/config.js';
import { configFilePath, readConfigFileSync } from '../config/config-file.js';
import { parseTraceContext, type TraceContext } from '../domain/trace-context.js';

type Flags = Partial<Record<string, string | number | boolean | readonly string[] | undefined>>;

/** Config files already read by this process, by path. */
const fileValues = new Map<string, Overrides>();

/**
 * The config for a CLI command: flags over env over the config file over defaults. The file is
 * `file` (`serve --config`), else PILOTAGE_CONFIG, else `$XDG_CONFIG_HOME/pilotage/config.yaml`
 * when it exists (config-file.ts `configFilePath`).
 */
export function configFrom(flags: Flags, file?: string): Config {
  const home = homedir();
  const path = configFilePath(file, process.env, home);
  let values: Overrides = {};
  if (path !== undefined) {
    values = fileValues.get(path) ?? readConfigFileSync(path);
    fileValues.set(path, values);
  }
  const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  return loadConfig({ env: process.env, home, flags: defined, file: values });
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
