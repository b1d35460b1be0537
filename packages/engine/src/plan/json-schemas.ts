/** The published JSON Schemas of both file kinds (`pilotage schema workflow|component`). */
export { componentJsonSchema } from './component-schema.js';
export { workflowJsonSchema } from './workflow-schema.js';
