import { ExecutorError } from '../../domain/errors.js';
import type { Executor, ExitInfo, LogLine, TaskHandle, TaskSpec } from '../executor.js';

/** What a scripted component can do while it "runs". */
export interface FakeComponentApi {
  readonly spec: TaskSpec;
  readonly env: Readonly<Record<string, string>>;
  /** aborted when the engine kills it */
  readonly signal: AbortSignal;
  /** write a stdout (or stderr) line */
  log(line: string, stream?: 'stdout' | 'stderr'): void;
  /** POST a callback step (`component-start`…) with a body; resolves with the HTTP status */
  call(step: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  sleep(ms: number): Promise<void>;
}

/** A scripted component: resolves with its exit code. */
export type FakeBehavior = (api: FakeComponentApi) => Promise<number>;

/**
 * A scriptable executor for fast engine tests: each "component" is an async function speaking
 * the real callback contract over real HTTP, without a process. Behaviours are looked up by
 * action name, then by component name; an unknown one fails to start (as a missing image would).
 */
export function createFakeExecutor(
  behaviors: Readonly<Record<string, FakeBehavior>>,
  name = 'fake',
): Executor & { readonly started: TaskSpec[] } {
  const started: TaskSpec[] = [];
  let next = 0;
  return {
    name,
    started,
    async start(spec: TaskSpec, onLog: (line: LogLine) => void): Promise<TaskHandle> {
      const behavior = behaviors[spec.action] ?? behaviors[spec.component.name];
      if (!behavior) throw new ExecutorError(`no fake behaviour for action ${spec.action}`);
      started.push(spec);
      const controller = new AbortController();
      const ref = `fake-${++next}`;
      const api: FakeComponentApi = {
        spec,
        env: spec.env,
        signal: controller.signal,
        log: (line, stream = 'stdout') => {
          if (!controller.signal.aborted) onLog({ stream, line, ts: Date.now() });
        },
        async call(step, body) {
          const url = step === 'data' ? spec.env.CO_DATA_URL : spec.env[`CO_${step.toUpperCase().replace(/-/g, '_')}`];
          if (!url) throw new Error(`no URL for step ${step}`);
          const response = await fetch(url, {
            method: step === 'data' ? 'GET' : 'POST',
            ...(step === 'data' ? {} : { body: body === undefined ? '' : JSON.stringify(body) }),
            headers: { 'content-type': 'application/json' },
          });
          const text = await response.text();
          return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
        },
        sleep: (ms) =>
          new Promise<void>((resolve, reject) => {
            const timer = setTimeout(resolve, ms);
            controller.signal.addEventListener('abort', () => {
              clearTimeout(timer);
              reject(new Error('killed'));
            });
          }),
      };
      let killed: ExitInfo | undefined;
      const exited = behavior(api).then(
        (code): ExitInfo => killed ?? { exitCode: code },
        (): ExitInfo => killed ?? { exitCode: 1 },
      );
      return {
        ref,
        facts: { fake: 'true' },
        wait: () => exited,
        async kill(reason) {
          killed ??= { exitCode: null, signal: 'SIGTERM', reason };
          controller.abort();
          await exited;
        },
      };
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
