/**
 * The typed contract of the Pilotage HTTP API, shared by the server (its plugins register these
 * schemas), the CLI and the web UI: route schemas, the Server-Sent Events of the live streams,
 * and a typed fetch client.
 */
export * from './common.js';
export * from './runs.js';
export * from './run-stream.js';
export * from './workflows.js';
export * from './components.js';
export * from './deliveries.js';
export * from './approvals.js';
export * from './session.js';
export * from './route.js';
export * from './routes.js';
export * from './client.js';
