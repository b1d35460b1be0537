/**
 * A fake executor (named `fake`) whose every component exits 0 at once, calling nothing and
 * starting no process: what is left of a run is the engine's own cost (the store, the claim,
 * the change feed, the outbox). For benchmarks only: it lives in bench/, which no package ships,
 * and workflows cannot name it (the workflow schema allows only local, docker and kubernetes);
 * an engine uses it only when a bench passes it to `createRuntime` or starts
 * [`replicas-fake-serve.mjs`](replicas-fake-serve.mjs), where it is the default executor.
 */
export function fakeExecutor() {
  let next = 0;
  return {
    name: 'fake',
    async start() {
      const exited = Promise.resolve({ exitCode: 0 });
      return { ref: `fake-${++next}`, facts: {}, wait: () => exited, kill: async () => undefined };
    },
    destroy: async () => undefined,
    list: async () => [],
    attach: async () => undefined,
    prepareRun: async () => ({ mountPath: '/fake-workspace' }),
    releaseRun: async () => undefined,
    listRuns: async () => [],
    callbackBaseUrl: (loopback) => loopback,
    close: async () => undefined,
  };
}
