import { Type, type Static } from '@sinclair/typebox';
import { Millis, nullable } from './common.js';
import { NAME_PATTERN } from './workflows.js';

/** Components: the registry of immutable `name@version` entries. */

/** A registered component version as lists show it. */
export const ComponentInfo = Type.Object({
  name: Type.String(),
  version: Type.String(),
  description: nullable(Type.String()),
  image: nullable(Type.String()),
  deprecated: Type.Boolean(),
  deprecationMessage: nullable(Type.String()),
  createdAt: Millis,
  createdBy: Type.Union([Type.String(), Type.Null()], { description: 'the API token name that registered it' }),
});
export type ComponentInfo = Static<typeof ComponentInfo>;

/** One version in full: its spec (the component.yaml as JSON) and the text it was registered from. */
export const ComponentDetail = Type.Composite([
  ComponentInfo,
  Type.Object({
    spec: Type.Object({}, { additionalProperties: true }),
    source: Type.String(),
    dir: Type.Union([Type.String(), Type.Null()], {
      description: 'component folder on the server (local executor); shown to admin tokens only',
    }),
  }),
]);
export type ComponentDetail = Static<typeof ComponentDetail>;

export const ComponentVersions = Type.Object({ name: Type.String(), versions: Type.Array(ComponentInfo) });

/** Where a component is used: the latest version of each workflow whose actions name it. */
export const ComponentUsage = Type.Object({
  name: Type.String(),
  workflows: Type.Array(
    Type.Object({
      workflow: Type.String(),
      version: Type.Integer({ description: 'the latest version of the workflow' }),
      actions: Type.Array(
        Type.Object({
          stage: Type.String(),
          action: Type.String(),
          component: Type.String({ description: 'name@version' }),
        }),
      ),
    }),
  ),
});
export type ComponentUsage = Static<typeof ComponentUsage>;

export const ComponentNameParams = Type.Object({ name: Type.String({ pattern: NAME_PATTERN }) });
export const ComponentVersionParams = Type.Object({
  name: Type.String({ pattern: NAME_PATTERN }),
  version: Type.String({ minLength: 1 }),
});

export const ListComponentsQuery = Type.Object({
  q: Type.Optional(Type.String({ description: 'substring of the name or description, any case' })),
  deprecated: Type.Optional(Type.Boolean({ description: 'include deprecated versions (default false)' })),
});

export const DeprecateBody = Type.Object(
  { message: Type.Optional(Type.String({ description: 'why, and what to use instead' })) },
  { additionalProperties: false },
);
