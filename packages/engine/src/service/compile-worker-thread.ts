/**
 * The worker thread of `startCompileWorker`: runs `compileSteps` one message at a time and
 * answers each with its result, or with the issues of a PlanError, or with an error message.
 */
import { parentPort } from 'node:worker_threads';
import { PlanError } from '../domain/issue.js';
import type { CompileRequest, CompileResponse } from './compile-worker.js';
import { compileSteps } from './file-compiler.js';

const steps = compileSteps();

// results travel as JSON text: the receiving thread parses a string much faster than it
// deserializes the same tree (a 10,000-action plan: 40 ms against 150 ms); a workflow's plan is
// already text, which the server stores as it is (copying a string between threads is cheap)
function run(request: CompileRequest): Omit<CompileResponse, 'id'> {
  switch (request.op) {
    case 'names':
      return { ok: JSON.stringify(steps.names(request.text, request.file)) };
    case 'workflow':
      return { workflow: steps.workflow(request.text, request.file, request.versions, request.expectName) };
    case 'component':
      return { ok: JSON.stringify(steps.component(request.text, request.file)) };
  }
}

parentPort?.on('message', (request: CompileRequest) => {
  let response: CompileResponse;
  try {
    response = { id: request.id, ...run(request) } as CompileResponse;
  } catch (error) {
    response =
      error instanceof PlanError
        ? { id: request.id, issues: error.issues }
        : { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(response);
});
