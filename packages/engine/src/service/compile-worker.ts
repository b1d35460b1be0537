import type { Worker } from 'node:worker_threads';
import { PlanError, type Issue } from '../domain/issue.js';
import { startWorkerThread } from '../worker-thread.js';
import {
  registryVersions,
  type CompiledComponent,
  type CompiledWorkflow,
  type FileCompiler,
  type RegistryNames,
  type RegistryVersions,
} from './file-compiler.js';

type Step = { readonly text: string; readonly file: string } & (
  | { readonly op: 'names' }
  | { readonly op: 'workflow'; readonly versions: RegistryVersions; readonly expectName?: string }
  | { readonly op: 'component' }
);

/** A message to the compile thread. */
export type CompileRequest = Step & { readonly id: number };

/**
 * Its answer: a result (as JSON text; a compiled workflow as it is, its plan being text already),
 * the issues of a PlanError, or another error's message.
 */
export type CompileResponse = { readonly id: number } & (
  | { readonly ok: string }
  | { readonly workflow: CompiledWorkflow }
  | { readonly issues: readonly Issue[] }
  | { readonly error: string }
);

/** The server's FileCompiler, and how to stop its thread. */
export interface CompileWorker extends FileCompiler {
  /** stop the thread; calls still waiting are rejected. Safe to repeat. */
  close(): Promise<void>;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * A FileCompiler whose parsing and compiling run on one worker thread, so that the server's
 * event loop keeps answering (a 10,000-action workflow takes about a second to compile). Calls
 * are served in order. The thread starts on the first call; if it dies (out of memory), the
 * calls it held are rejected and the next call starts a new one.
 */
export function startCompileWorker(): CompileWorker {
  let worker: Worker | undefined;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  const failAll = (error: Error): void => {
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };

  const thread = (): Worker => {
    if (worker !== undefined) return worker;
    const started = startWorkerThread(import.meta.url, 'compile-worker-thread');
    started.on('message', (response: CompileResponse) => {
      const call = pending.get(response.id);
      if (call === undefined) return;
      pending.delete(response.id);
      if ('issues' in response) call.reject(new PlanError(response.issues));
      else if ('error' in response) call.reject(new Error(response.error));
      else if ('workflow' in response) call.resolve(response.workflow);
      else call.resolve(JSON.parse(response.ok));
    });
    started.on('error', (error) => {
      if (worker === started) worker = undefined;
      failAll(new Error(`the compile thread failed: ${error.message}`, { cause: error }));
    });
    started.on('exit', () => {
      if (worker === started) worker = undefined;
      failAll(new Error('the compile thread stopped'));
    });
    worker = started;
    return started;
  };

  const call = <T>(request: Step): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      thread().postMessage({ ...request, id });
    });

  return {
    async workflow(stores, text, file, expectName) {
      const names = await call<RegistryNames>({ op: 'names', text, file });
      const versions = await registryVersions(stores, names);
      return call<CompiledWorkflow>({
        op: 'workflow',
        text,
        file,
        versions,
        ...(expectName === undefined ? {} : { expectName }),
      });
    },
    component: (text, file) => call<CompiledComponent>({ op: 'component', text, file }),
    async close() {
      const stopping = worker;
      worker = undefined;
      if (stopping !== undefined) await stopping.terminate();
      failAll(new Error('the compile thread was stopped'));
    },
  };
}
