import { ConfigError } from '../domain/errors.js';
import type { ExecutorSet } from '../engine/ports.js';
import type { Executor } from './executor.js';

/** A fixed set of executors by name, with a default. */
export function createExecutorSet(executors: readonly Executor[], defaultName: string): ExecutorSet {
  const byName = new Map(executors.map((e) => [e.name, e]));
  if (!byName.has(defaultName)) {
    throw new ConfigError(
      `default executor "${defaultName}" is not available (have: ${[...byName.keys()].join(', ')})`,
    );
  }
  return {
    defaultName,
    get(name) {
      const executor = byName.get(name);
      if (!executor) {
        throw new ConfigError(
          `executor "${name}" is not available in this engine (have: ${[...byName.keys()].join(', ')}); ` +
            `start it with --executor ${name} or configure it`,
        );
      }
      return executor;
    },
    all: () => [...byName.values()],
  };
}
