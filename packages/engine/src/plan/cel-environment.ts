import { Environment, type EnvironmentOptions } from '@marcbachmann/cel-js';

/**
 * A CEL environment with Pilotage's settings: list and map literals may mix types (they are
 * JSON), optional chaining (`inputs.?ref.orValue("main")`) is on, and `replace` of the CEL
 * strings extension is added (the library has `split`, `trim`, `lowerAscii`, `upperAscii`
 * but not `replace`, which CI expressions need: `payload.ref.replace("refs/heads/", "")`).
 * Load-time checking and run-time evaluation both use it, so they agree on what exists.
 */
export function newCelEnvironment(options: EnvironmentOptions = {}): Environment {
  return new Environment({
    homogeneousAggregateLiterals: false,
    enableOptionalTypes: true,
    ...options,
  }).registerFunction('string.replace(string, string): string', (text: string, from: string, to: string) =>
    text.replaceAll(from, to),
  );
}
