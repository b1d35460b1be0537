import { ConfigError } from '../domain/errors.js';
import type { Executor } from './executor.js';

/** Builds an executor from its section of the configuration. */
export type ExecutorFactory = (options: Readonly<Record<string, unknown>>) => Executor | Promise<Executor>;

/**
 * Executors by name (`local`, `docker`, `kubernetes`, `fake`). Only the startup wiring
 * registers factories, so the engine never imports a concrete executor.
 */
export class ExecutorRegistry {
  readonly #factories = new Map<string, ExecutorFactory>();

  /** Add a factory; a name registered twice is a ConfigError. Returns this, for chaining. */
  register(name: string, factory: ExecutorFactory): this {
    if (this.#factories.has(name)) throw new ConfigError(`executor '${name}' is registered twice`);
    this.#factories.set(name, factory);
    return this;
  }

  /** Is `name` registered? */
  has(name: string): boolean {
    return this.#factories.has(name);
  }

  /** The registered names, sorted. */
  names(): string[] {
    return [...this.#factories.keys()].sort();
  }

  /**
   * A new executor `name` built with `options` (default `{}`). Throws a ConfigError naming the
   * known executors when `name` is unknown; the factory's own errors pass through.
   */
  async create(name: string, options: Readonly<Record<string, unknown>> = {}): Promise<Executor> {
    const factory = this.#factories.get(name);
    if (factory === undefined) {
      const known = this.names();
      throw new ConfigError(
        `unknown executor '${name}'; known: ${known.length === 0 ? '(none registered)' : known.join(', ')}`,
      );
    }
    return factory(options);
  }
}
