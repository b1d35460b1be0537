/**
 * The programmatic entry of `@pilotage/engine` (the package's `"."` export): embed the engine
 * (`createRuntime`), the server (`startServer`, or `buildApp` for your own Fastify lifecycle),
 * the plan compiler, the store, and the executor interface to write an executor of your own.
 * The CLI (`pilotage`) is built on exactly these.
 */
export { createRuntime, type Runtime, type RuntimeOptions } from './main.js';
export { startServer, type RunningServer, type ServeOptions } from './serve.js';
export { buildApp, type BuildAppOptions } from './api/build-app.js';
export type { ApiDeps } from './api/api-deps.js';
export { loadConfig, CONFIG_ENV, type Config } from './config/config.js';
export { readConfigFile } from './config/config-file.js';
export * from './plan/index.js';
export {
  createFileResolver,
  loadComponentFile,
  loadWorkflowFile,
  validateFiles,
  type ComponentRegistry,
} from './plan-files/load.js';
export { Engine, type EngineOptions, type StartRunOptions } from './engine/engine.js';
export { openStore, type OpenStoreOptions } from './store/open-store.js';
export type * from './store/types.js';
export type { Executor, ExitInfo, LogLine, RunningRef, TaskHandle, TaskSpec } from './executor/executor.js';
export { validateCdevent } from './events/validate.js';
export * from './domain/errors.js';
export { PlanError, formatIssue, type Issue } from './domain/issue.js';
