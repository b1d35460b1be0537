import type { JsonObject } from './json.js';

/**
 * Throw this from a `runComponent` handler to fail the task with a message and, unlike any other
 * error, with an `output` (validated by the engine against the component's `outputs` schema, like
 * a success's). Any other thrown error fails the task with its message and no output.
 */
export class ComponentFailure extends Error {
  readonly code = 'COMPONENT_FAILURE';
  readonly output: JsonObject | undefined;
  constructor(message: string, output?: JsonObject) {
    super(message);
    this.name = 'ComponentFailure';
    this.output = output;
  }
}
