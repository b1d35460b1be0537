/**
 * The plan compiler: workflow and component files (YAML or JSON) → validated, executor-neutral
 * plans, and the pure run-time side of expressions and schemas.
 */
export { compileWorkflow } from './compile-workflow.js';
export { parseComponent } from './parse-component.js';
export type { ComponentResolver } from './component-resolver.js';
export { evaluateCondition, evaluateExpression, renderTemplate, type ExpressionVariables } from './render.js';
export { compileTemplate } from './template.js';
export { applyDefaults, compileSchema, schemaProblems, type SchemaProblem } from './schema.js';
export { componentJsonSchema, workflowJsonSchema } from './json-schemas.js';
export * from './types.js';
