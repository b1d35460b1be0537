import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread running module `name` (no extension) beside the module at `base`
 * (its `import.meta.url`). From the build, that module is a .js; from the sources (tests through
 * tsx), it is a .ts, which a worker loads only once tsx's loader is registered in that thread.
 */
export function startWorkerThread(base: string, name: string, options: WorkerOptions = {}): Worker {
  const fromSource = base.endsWith('.ts');
  const entry = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, base);
  if (!fromSource) return new Worker(entry, options);
  const code = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(code, { ...options, eval: true });
}
