import { Type, type Static } from '@sinclair/typebox';
import { Millis, nullable, PlanIssue } from './common.js';

/** Workflows: the store of applied, versioned workflow files. */

/** Names of workflows and components: lowercase letters, digits and dashes. */
export const NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** A workflow as lists show it: its flag, latest version, and what starts it. */
export const WorkflowInfo = Type.Object({
  name: Type.String(),
  enabled: Type.Boolean({ description: 'false: triggers and run requests are refused' }),
  latestVersion: Type.Integer(),
  description: nullable(Type.String()),
  triggers: Type.Array(Type.String(), {
    description: 'one line per trigger: `manual`, `webhook github push`, `cron 0 3 * * * (Europe/Paris)`',
  }),
  createdAt: Millis,
  updatedAt: Millis,
});
export type WorkflowInfo = Static<typeof WorkflowInfo>;

/** One applied version, without its source and plan. */
export const WorkflowVersionInfo = Type.Object({
  version: Type.Integer(),
  digest: Type.String({ description: 'sha256 of the source, hex' }),
  createdAt: Millis,
  createdBy: nullable(Type.String()),
});
export type WorkflowVersionInfo = Static<typeof WorkflowVersionInfo>;

/** `GET /v1/workflows/:name`: the workflow and its versions, newest first. */
export const WorkflowDetail = Type.Composite([
  WorkflowInfo,
  Type.Object({ versions: Type.Array(WorkflowVersionInfo) }),
]);
export type WorkflowDetail = Static<typeof WorkflowDetail>;

/** One version with its source text and compiled plan. */
export const WorkflowVersionDetail = Type.Composite([
  WorkflowVersionInfo,
  Type.Object({ name: Type.String(), source: Type.String(), plan: Type.Unknown() }),
]);
export type WorkflowVersionDetail = Static<typeof WorkflowVersionDetail>;

/**
 * A file sent to the API: its text (YAML or JSON, sent as `application/yaml`), or JSON
 * `{source, file?}` where `file` names it in issues (components also take `dir`).
 */
export const SourceBody = Type.Union([
  Type.String({ description: 'the file itself' }),
  Type.Object({
    source: Type.String(),
    file: Type.Optional(Type.String({ description: 'the name issues give the file' })),
    dir: Type.Optional(Type.String({ description: 'components only: absolute folder on the server' })),
  }),
]);

/** Answer of applying a workflow version. */
export const ApplyReply = Type.Object({
  name: Type.String(),
  version: Type.Integer(),
  digest: Type.String(),
  created: Type.Boolean({ description: 'false: the text equals the latest version, nothing was stored' }),
  enabled: Type.Boolean(),
  warnings: Type.Array(Type.String(), { description: 'deprecated component versions the workflow uses' }),
});
export type ApplyReply = Static<typeof ApplyReply>;

/**
 * Answer of checking a file without storing it: whether the server would accept it and, if
 * not, every issue with its line and column (a 200 either way: the verdict is the answer).
 */
export const CheckReply = Type.Object({
  valid: Type.Boolean(),
  issues: Type.Array(PlanIssue),
  name: Type.Union([Type.String(), Type.Null()], { description: 'the name the file gives itself, when valid' }),
  version: Type.Optional(Type.String({ description: 'components: the version the file gives' })),
  warnings: Type.Array(Type.String(), { description: 'workflows: deprecated component versions it uses' }),
  plan: Type.Optional(Type.Unknown({ description: 'workflows: the compiled plan; components: the spec' })),
});
export type CheckReply = Static<typeof CheckReply>;

export const WorkflowNameParams = Type.Object({ name: Type.String({ pattern: NAME_PATTERN }) });
export const WorkflowVersionParams = Type.Object({
  name: Type.String({ pattern: NAME_PATTERN }),
  version: Type.Integer({ minimum: 1 }),
});

export const DiffQuery = Type.Object({
  from: Type.Optional(Type.Integer({ minimum: 1, description: 'default: the version before `to`' })),
  to: Type.Optional(Type.Integer({ minimum: 1, description: 'default: the latest version' })),
});

export const DiffReply = Type.Object({
  name: Type.String(),
  from: Type.Integer(),
  to: Type.Integer(),
  diff: Type.String({ description: 'unified diff, `--- name@from` / `+++ name@to`; empty hunks when equal' }),
});

export const EnabledReply = Type.Object({ name: Type.String(), enabled: Type.Boolean() });
