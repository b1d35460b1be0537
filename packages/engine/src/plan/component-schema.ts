import { kubernetesJsonSchema } from './kubernetes-schema.js';
import { API_VERSION, SEMVER_PATTERN, sharedDefinitions } from './schema-defs.js';

/**
 * The published JSON Schema (draft-07) of `component.yaml`, also committed as
 * `packages/engine/schemas/component.schema.json` and printed by `pilotage schema component`.
 * `parseComponent` checks files against this very object, then checks the `inputs`/`outputs`
 * JSON Schemas themselves and that an image or a command is given.
 */
export const componentJsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://pilotage.dev/schemas/component.schema.json',
  title: 'Pilotage component',
  description: 'A reusable step: a container image and/or a command, with declared inputs and outputs.',
  type: 'object',
  required: ['apiVersion', 'kind', 'name', 'version'],
  additionalProperties: false,
  anyOf: [{ required: ['image'] }, { required: ['command'] }],
  properties: {
    apiVersion: { const: API_VERSION, description: 'always pilotage.dev/v1' },
    kind: { const: 'Component' },
    name: { $ref: '#/definitions/name' },
    version: {
      type: 'string',
      pattern: SEMVER_PATTERN,
      description: 'a semantic version such as 1.2.0',
    },
    description: { type: 'string' },
    image: { type: 'string', minLength: 1, description: 'container image, for container executors' },
    pullPolicy: { enum: ['always', 'if-missing', 'never'] },
    command: {
      type: 'array',
      minItems: 1,
      items: { type: 'string' },
      description:
        'argv for the local executor (entrypoint override for containers); ./x is resolved against this folder',
    },
    args: { type: 'array', items: { type: 'string' }, description: 'arguments after command' },
    workingDir: { type: 'string', minLength: 1 },
    user: { type: ['string', 'integer'], description: 'user (and group) to run as, such as 1000:1000' },
    strict: { type: 'boolean', description: 'must follow the full five-callback sequence' },
    endpoint: {
      type: 'object',
      description: 'where the engine POSTs the event data after COMPONENT_START',
      required: ['port'],
      additionalProperties: false,
      properties: {
        port: { type: 'integer', minimum: 1, maximum: 65535 },
        path: { type: 'string', pattern: '^/', description: 'an absolute URL path such as /event' },
      },
    },
    inputs: { $ref: '#/definitions/jsonSchema', description: 'JSON Schema of the event data' },
    outputs: { $ref: '#/definitions/jsonSchema', description: 'JSON Schema of the reported outputs' },
    env: {
      type: 'object',
      propertyNames: { $ref: '#/definitions/envName' },
      additionalProperties: { type: ['string', 'number', 'boolean'] },
    },
    timeout: { $ref: '#/definitions/duration', description: 'default timeout of each attempt' },
    resources: {
      type: 'object',
      additionalProperties: false,
      properties: {
        cpu: {
          type: ['string', 'number'],
          minimum: 0,
          pattern: '^([0-9]+(\\.[0-9]+)?|[0-9]+m)$',
          description: 'a CPU amount such as 500m or 2',
        },
        memory: {
          type: ['string', 'integer'],
          minimum: 0,
          pattern: '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$',
          description: 'a memory amount such as 256Mi or 1Gi',
        },
      },
    },
    volumes: { type: 'array', items: { $ref: '#/definitions/volume' } },
    kubernetes: kubernetesJsonSchema,
  },
  definitions: {
    ...sharedDefinitions,
    volume: {
      type: 'object',
      required: ['name', 'mountPath'],
      additionalProperties: false,
      properties: {
        name: { $ref: '#/definitions/name' },
        mountPath: { type: 'string', pattern: '^/', description: 'an absolute path inside the container' },
        readOnly: { type: 'boolean' },
        initialData: {
          type: 'object',
          description: 'files to create in the volume: relative file name → content',
          propertyNames: {
            pattern: '^(?!/)(?!(.*/)?\\.\\.(/|$)).+$',
            description: 'a relative file path without ".."',
          },
          additionalProperties: { type: 'string' },
        },
      },
    },
  },
} as const;
