import { API_VERSION, PASS_ENV_PATTERN, sharedDefinitions } from './schema-defs.js';

/**
 * The published JSON Schema (draft-07) of `workflow.yaml`, also committed as
 * `packages/engine/schemas/workflow.schema.json` and printed by `pilotage schema workflow`.
 * The compiler checks files against this very object (see `checkSchema`), then checks what a
 * schema cannot say: references, expressions, component inputs.
 */
export const workflowJsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://pilotage.dev/schemas/workflow.schema.json',
  title: 'Pilotage workflow',
  description: 'A workflow: stages run in order, the actions of a stage run in parallel.',
  type: 'object',
  required: ['apiVersion', 'kind', 'name', 'stages'],
  additionalProperties: false,
  properties: {
    apiVersion: { const: API_VERSION, description: 'always pilotage.dev/v1' },
    kind: { const: 'Workflow' },
    name: { $ref: '#/definitions/name' },
    version: { type: ['string', 'number'], description: 'a free-form version label of this file' },
    description: { type: 'string' },
    inputs: {
      $ref: '#/definitions/jsonSchema',
      description:
        'JSON Schema (draft 2020-12) of the event data that starts a run; an object schema. Defaults are applied before the run starts.',
    },
    env: { $ref: '#/definitions/env' },
    passEnv: { $ref: '#/definitions/passEnv' },
    triggers: { type: 'array', items: { $ref: '#/definitions/trigger' } },
    stages: { type: 'array', minItems: 1, items: { $ref: '#/definitions/stage' } },
    failFast: {
      type: 'boolean',
      description: 'cancel the running actions of a stage as soon as one of them fails',
    },
    timeout: { $ref: '#/definitions/duration', description: 'timeout of the whole run' },
    concurrency: {
      type: ['string', 'object', 'integer'],
      minLength: 1,
      minimum: 1,
      description:
        'a concurrency group: at most one run of the group is running, the others wait in queued; a name (may hold ${{ inputs.x }}) or {group, cancelInProgress}. (A number is the older spelling of maxParallel.)',
      required: ['group'],
      additionalProperties: false,
      properties: {
        group: {
          type: 'string',
          minLength: 1,
          description: 'the group name; expressions read inputs and run.workflow',
        },
        cancelInProgress: {
          type: 'boolean',
          description: 'a new run cancels the running and waiting runs of its group instead of waiting (default false)',
        },
      },
    },
    maxParallel: {
      type: 'integer',
      minimum: 1,
      description: 'most actions of one run running at once (default 16)',
    },
    maxRuns: {
      type: 'integer',
      minimum: 1,
      description:
        'most runs of this workflow running at once on a server; more wait in queued and start in order (default: no limit)',
    },
    executor: {
      enum: ['local', 'docker', 'kubernetes', 'auto'],
      description: "where actions run; auto (or absent) uses the engine's default",
    },
    finally: {
      type: 'array',
      items: { $ref: '#/definitions/stage' },
      description:
        'stages that run after the others end, however they ended (success, failure, cancel); their actions may read every action',
    },
    finallyTimeout: {
      $ref: '#/definitions/duration',
      description: 'most time the finally stages may take (default: none, but 5m after a cancel or a run timeout)',
    },
    outputs: {
      type: 'object',
      description:
        "the run's outputs: name → value built from actions' outputs (${{ actions.build.outputs.version }}); a calling action reads them as its outputs",
      propertyNames: { $ref: '#/definitions/outputName' },
      additionalProperties: {},
    },
  },
  definitions: {
    ...sharedDefinitions,
    matrixKey: {
      type: 'string',
      pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
      description: 'a matrix axis name: letters, digits and _, not starting with a digit (read as matrix.<name>)',
    },
    outputName: {
      type: 'string',
      pattern: '^[A-Za-z_][A-Za-z0-9_-]*$',
      description: 'an output name: letters, digits, _ and -, not starting with a digit or -',
    },
    env: {
      type: 'object',
      description: 'environment variables; values may hold ${{ }} expressions',
      propertyNames: { $ref: '#/definitions/envName' },
      additionalProperties: { type: ['string', 'number', 'boolean'] },
    },
    passEnv: {
      type: 'array',
      items: {
        type: 'string',
        pattern: PASS_ENV_PATTERN,
        description: 'a variable name or a glob such as AWS_* (letters, digits, _ and *)',
      },
      description:
        "variables of the engine's own environment to pass to the components (names, or globs with *), besides the executor's base; PILOTAGE_* never pass. Whoever can apply the workflow can read them: list only what the components need",
    },
    stage: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name: { $ref: '#/definitions/name' },
        type: {
          enum: ['actions', 'approval'],
          description: 'actions (default): run actions; approval: wait for a decision',
        },
        actions: { type: 'array', items: { $ref: '#/definitions/action' } },
        timeout: {
          $ref: '#/definitions/duration',
          description: 'approval stages: how long to wait for a decision (default 24h)',
        },
      },
      if: { required: ['type'], properties: { type: { const: 'approval' } } },
      then: { not: { required: ['actions'] } },
      else: { required: ['actions'], properties: { actions: { minItems: 1 } }, not: { required: ['timeout'] } },
    },
    action: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      oneOf: [{ required: ['component'] }, { required: ['run'] }, { required: ['uses'] }],
      dependencies: { image: ['run'] },
      properties: {
        name: { $ref: '#/definitions/name' },
        component: {
          type: 'string',
          minLength: 1,
          description:
            'a registered component (name@1.2.0, name@^1) or a path to a component.yaml, relative to this file',
        },
        run: { type: 'string', minLength: 1, description: 'a shell script: an inline component' },
        uses: {
          type: 'string',
          minLength: 1,
          description:
            'a reusable workflow run as a child run: a stored workflow (deploy@3, deploy@latest) on a server, or a path to a workflow file, relative to this file',
        },
        matrix: { $ref: '#/definitions/matrix' },
        cache: { $ref: '#/definitions/cache' },
        image: { type: 'string', minLength: 1, description: 'container image of an inline run: action' },
        with: { description: 'the event data: any JSON; strings may hold ${{ }} expressions' },
        if: {
          type: ['string', 'boolean'],
          description: 'run only when this condition (a CEL expression, with or without ${{ }}) is true',
        },
        timeout: { $ref: '#/definitions/duration', description: 'timeout of each attempt' },
        retries: { $ref: '#/definitions/retries' },
        env: { $ref: '#/definitions/env' },
        passEnv: { $ref: '#/definitions/passEnv' },
        executor: { enum: ['local', 'docker', 'kubernetes'] },
        strict: { type: 'boolean', description: 'require the full callback sequence' },
      },
    },
    matrix: {
      type: 'object',
      minProperties: 1,
      description:
        'run the action once per combination of these axes (lists, or ${{ }} giving a list); each task run reads matrix.<axis>',
      propertyNames: { $ref: '#/definitions/matrixKey' },
      properties: {
        include: {
          type: ['array', 'string'],
          items: { type: 'object' },
          description: 'combinations to extend or add (a list of mappings, or ${{ }} giving one)',
        },
        exclude: {
          type: ['array', 'string'],
          items: { type: 'object' },
          description: 'combinations to leave out (a list of mappings, or ${{ }} giving one)',
        },
        maxParallel: { type: 'integer', minimum: 1, description: 'most combinations running at once' },
        failFast: {
          type: 'boolean',
          description: "a failed combination cancels the running ones (default: the workflow's failFast)",
        },
      },
      additionalProperties: { type: ['array', 'string'] },
    },
    cache: {
      type: ['boolean', 'object'],
      description:
        'reuse the outputs (and workspace paths) of an earlier successful run of this action with the same key: true, or {key, paths}',
      additionalProperties: false,
      properties: {
        key: {
          type: 'string',
          minLength: 1,
          description:
            'the cache key (may hold ${{ }}, not secrets); default: derived from the component, the event data and the env',
        },
        paths: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          description: 'workspace files or folders saved on success and restored on a hit',
        },
      },
    },
    retries: {
      type: ['integer', 'object'],
      minimum: 0,
      maximum: 100,
      description: 'retries after the first attempt: a count, or {limit, backoff, factor, maxBackoff}',
      required: ['limit'],
      additionalProperties: false,
      properties: {
        limit: { type: 'integer', minimum: 0, maximum: 100 },
        backoff: { $ref: '#/definitions/duration', description: 'delay before the first retry (default 1s)' },
        factor: { type: 'number', minimum: 1, description: 'delay multiplier per retry (default 2)' },
        maxBackoff: { $ref: '#/definitions/duration', description: 'longest delay (default 60s)' },
      },
    },
    trigger: {
      type: 'object',
      description: 'exactly one of webhook, cdevent, cron, manual',
      minProperties: 1,
      maxProperties: 1,
      additionalProperties: false,
      properties: {
        webhook: {
          type: 'object',
          required: ['provider'],
          additionalProperties: false,
          properties: {
            provider: { enum: ['github', 'gitlab', 'generic'] },
            events: {
              type: 'array',
              items: { type: 'string', minLength: 1 },
              description: 'event names to accept (absent or empty: all)',
            },
            inputs: {
              type: 'object',
              description: 'input name → value from the request: ${{ payload.x }}, ${{ headers["x-y"] }}',
              additionalProperties: {},
            },
          },
        },
        cdevent: {
          type: 'object',
          required: ['type'],
          additionalProperties: false,
          properties: {
            type: {
              type: 'string',
              pattern:
                '^dev\\.cdevents(\\.\\*|\\.[a-z*]+\\.[a-z*]+(\\.[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.]+)?)?|x\\.[A-Za-z0-9._*-]+)$',
              description:
                'a CDEvents type such as dev.cdevents.artifact.published (any version), with a version, a glob with * (dev.cdevents.taskrun.*), or a custom dev.cdeventsx.* type',
            },
            filter: {
              type: ['string', 'boolean'],
              description: 'a condition over the incoming CDEvent, named event',
            },
          },
        },
        cron: {
          type: ['string', 'object'],
          description: 'a cron schedule ("0 3 * * *"), or {schedule, timezone}',
          required: ['schedule'],
          additionalProperties: false,
          properties: {
            schedule: { type: 'string' },
            timezone: { type: 'string', description: 'an IANA time zone such as Europe/Paris' },
          },
        },
        manual: {
          type: ['object', 'null'],
          description: 'runs started by hand (CLI, API, UI)',
          additionalProperties: false,
          properties: {},
        },
      },
    },
  },
} as const;
