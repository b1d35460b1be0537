import type { Env } from './env.js';

/** Where a task run sits, from the contract's context variables. Unset ones are `''`. */
export interface TaskInfo {
  /** `CO_RUN_ID`: the run (ULID) */
  readonly runId: string;
  /** `CO_TASK_RUN_ID`: this attempt of this action */
  readonly taskRunId: string;
  /** `CO_WORKFLOW`: the workflow's name */
  readonly workflow: string;
  /** `CO_STAGE`: the stage's name */
  readonly stage: string;
  /** `CO_ACTION`: the action's name */
  readonly action: string;
  /** `CO_ATTEMPT`: 1 for the first attempt, 2 for the first retry…; 1 when unset */
  readonly attempt: number;
  /** `CO_WORKSPACE`: the run's workspace, shared by its actions; the working directory when unset */
  readonly workspace: string;
  /** `CO_COMPONENT_DIR`: the component's own folder (local executor), `''` when unset */
  readonly componentDir: string;
  /** `CO_SERVER`: the engine's base URL, `''` when unset */
  readonly server: string;
}

/** Read the context variables of the contract from `env`. Never throws. */
export function readTaskInfo(env: Env): TaskInfo {
  const attempt = Number.parseInt(env.CO_ATTEMPT ?? '', 10);
  return {
    runId: env.CO_RUN_ID ?? '',
    taskRunId: env.CO_TASK_RUN_ID ?? '',
    workflow: env.CO_WORKFLOW ?? '',
    stage: env.CO_STAGE ?? '',
    action: env.CO_ACTION ?? '',
    attempt: Number.isInteger(attempt) && attempt > 0 ? attempt : 1,
    workspace: env.CO_WORKSPACE ?? process.cwd(),
    componentDir: env.CO_COMPONENT_DIR ?? '',
    server: env.CO_SERVER ?? '',
  };
}
