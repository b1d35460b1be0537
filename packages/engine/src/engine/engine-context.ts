import type { CallbackRegistry } from '../protocol/registry.js';
import type { Store } from '../store/types.js';
import type {
  ChildRuns,
  EngineUpdate,
  EventDataPush,
  ExecutorSet,
  InputSeal,
  RunEventBuilder,
  Tracing,
} from './ports.js';
import type { ActionCache } from './action-cache.js';
import type { TaskSlots } from './task-slots.js';

/** What every run execution and task attempt of one engine shares. Built by `Engine`. */
export interface EngineContext {
  readonly store: Store;
  readonly executors: ExecutorSet;
  readonly registry: CallbackRegistry;
  readonly events: RunEventBuilder;
  readonly tracing: Tracing;
  readonly callback: { readonly loopbackUrl: string; readonly advertisedUrl?: string };
  /** CO_SERVER: the engine's API URL as components see it */
  readonly serverUrl: string;
  /** keep each run's workspace when it ends (`Executor.releaseRun` with `keep`) */
  readonly keepWorkspace: boolean;
  /** how long the workspace of a run that did not succeed is kept after it ended, ms (0: not kept) */
  readonly workspaceRetentionMs: number;
  readonly pushEventData: EventDataPush;
  /** grace between SIGTERM and SIGKILL, ms */
  readonly killGraceMs: number;
  /** how long a component may keep running after COMPONENT_STOP, ms */
  readonly stopGraceMs: number;
  /** the cap of running task attempts across every replica (`maxParallel`) */
  readonly slots: TaskSlots;
  readonly secrets: Readonly<Record<string, string>>;
  /** seals what is stored masked but needed as sent by another replica (inputs, event data) */
  readonly inputSeal: InputSeal | undefined;
  /** child runs of actions that `uses:` a workflow */
  readonly children: ChildRuns;
  /** the action result cache */
  readonly cache: ActionCache;
  clock(): number;
  emit(update: EngineUpdate): void;
  eventsWritten(): void;
  warn(message: string): void;
}
