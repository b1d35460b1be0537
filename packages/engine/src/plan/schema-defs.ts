/**
 * Definitions shared by the published workflow and component JSON Schemas (draft-07, which
 * every editor understands). `description` texts double as the compiler's "expected …" wording
 * for `pattern` failures, so they read as a noun phrase.
 *
 * Rules that span several fields (`component` or `run`, `image` only with `run`, approval stages
 * without actions) are written with `oneOf`/`dependencies`/`if` for editors, and checked by the
 * compiler in code, with messages that say what to change.
 */

/** Names of workflows, components, stages, actions and volumes: DNS labels. */
export const NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** `500ms`, `30s`, `10m`, `1h30m`, `2d`, or a bare number of seconds. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$|^[0-9]+(\\.[0-9]+)?$';

/** Semantic versioning 2.0.0. */
export const SEMVER_PATTERN =
  '^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?(\\+[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?$';

/** A `passEnv` entry: a variable name, or a glob where `*` stands for any run of characters. */
export const PASS_ENV_PATTERN = '^[A-Za-z_*][A-Za-z0-9_*]*$';

/** The `apiVersion` both kinds carry. */
export const API_VERSION = 'pilotage.dev/v1';

export const sharedDefinitions = {
  name: {
    type: 'string',
    pattern: NAME_PATTERN,
    maxLength: 63,
    description:
      'a name of lowercase letters, digits and "-", starting and ending with a letter or digit (like git-clone), at most 63 characters',
  },
  duration: {
    type: ['string', 'number'],
    pattern: DURATION_PATTERN,
    minimum: 0,
    description: 'a duration such as 500ms, 30s, 10m, 1h30m, or a number of seconds',
  },
  jsonSchema: {
    type: ['object', 'boolean'],
    description: 'a JSON Schema (draft 2020-12)',
  },
  envName: {
    type: 'string',
    pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
    description: 'an environment variable name: letters, digits and _, not starting with a digit',
  },
} as const;
