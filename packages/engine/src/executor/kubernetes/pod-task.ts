import type { V1Pod } from '@kubernetes/client-node';
import type { ExitInfo, LogLine, TaskHandle } from '../executor.js';
import { signalName } from '../shared/signal-name.js';
import { apiMessage, statusOf, type KubeApi } from './kube-api.js';
import { PodLogFollower } from './pod-logs.js';
import { readPod, type StartFailure } from './pod-state.js';
import type { PodEvent, PodWatcher } from './pod-watcher.js';

/** After a delete, how long beyond the grace the pod may take to go before it counts as gone, ms. */
const DELETE_SLACK_MS = 30_000;

/** The reason of a task run whose pod someone else deleted. */
const DELETED_BY_OTHER = 'the pod was deleted by someone else (not by Pilotage)';

/** What a PodTask needs. */
export interface PodTaskOptions {
  readonly api: KubeApi;
  readonly watcher: PodWatcher;
  readonly namespace: string;
  readonly name: string;
  readonly facts: Readonly<Record<string, string>>;
  readonly onLog: (line: LogLine) => void;
  readonly warn: (message: string) => void;
  /** default grace between SIGTERM and SIGKILL of `kill`, ms */
  readonly killGraceMs: number;
  /** how long a start failure that may pass (ErrImagePull…) is tolerated, ms */
  readonly pullGraceMs: number;
  /** the component's endpoint (port and path), if it declares one */
  readonly endpoint?: { readonly port: number; readonly path: string };
  /** attach: deliver the log from this time (epoch ms) instead of from the start */
  readonly sinceMs?: number;
  /** told once the pod is gone for good (deleted and seen so): `destroy` need not ask again */
  readonly onGone: () => void;
  /** aborted when the executor closes: `wait()` then never resolves (the engine is going away) */
  readonly closing: AbortSignal;
}

/**
 * A component running as a pod, followed through the shared pod watch (pod-watcher.ts):
 * - its log is followed from when the container runs (pod-logs.ts); `wait()` resolves after
 *   the last line was delivered;
 * - it ends when its container terminates (exit code, OOMKilled, DeadlineExceeded → timeout,
 *   Evicted → errored), or when its container cannot start: a hopeless reason
 *   (ErrImageNeverPull) at once, one that may pass (ErrImagePull, ImagePullBackOff) after the
 *   pull grace; the pod is then deleted and the task run errored, naming the image;
 * - a pod deleted by someone else (not by `kill`) ends it errored with that reason;
 * - `kill` deletes the pod with the grace period (the kubelet sends SIGTERM, then SIGKILL) and
 *   resolves once it is gone; an exit above 128 then reads as the signal, with the kill's reason.
 * Pending reasons worth knowing (an image that fails to pull, no node to run on) are written to
 * the task's log once each, as `[pilotage]` lines on stderr.
 */
export class PodTask implements TaskHandle {
  readonly ref: string;
  readonly facts: Readonly<Record<string, string>>;
  private readonly logs: PodLogFollower;
  private readonly unsubscribe: () => void;
  private readonly ended: Promise<ExitInfo>;
  private endWith!: (exit: ExitInfo) => void;
  private finished = false;
  private podIP: string | undefined;
  private ipKnown: Promise<void>;
  private setIpKnown!: () => void;
  private lastExit: ExitInfo | undefined;
  private killReason: string | undefined;
  private deleting: Promise<void> | undefined;
  private deletedByOther = false;
  private failingSince: number | undefined;
  private failTimer: NodeJS.Timeout | undefined;
  private readonly told = new Set<string>();

  constructor(private readonly options: PodTaskOptions) {
    this.ref = options.name;
    this.facts = options.facts;
    this.ended = new Promise((resolve) => (this.endWith = resolve));
    this.ipKnown = new Promise((resolve) => (this.setIpKnown = resolve));
    this.logs = new PodLogFollower(
      options.api,
      options.namespace,
      options.name,
      options.onLog,
      options.warn,
      options.sinceMs,
    );
    this.unsubscribe = options.watcher.subscribe(options.name, (event) => this.onEvent(event));
    options.closing.addEventListener('abort', () => this.logs.stop(), { once: true });
  }

  get endpointUrl(): string | undefined {
    const endpoint = this.options.endpoint;
    if (endpoint === undefined || this.podIP === undefined) return undefined;
    return `http://${this.podIP.includes(':') ? `[${this.podIP}]` : this.podIP}:${endpoint.port}${endpoint.path}`;
  }

  /** The endpoint's URL once the pod has its address (undefined when it ended first). */
  async endpoint(): Promise<string | undefined> {
    if (this.options.endpoint === undefined) return undefined;
    await Promise.race([this.ipKnown, this.ended]);
    return this.endpointUrl;
  }

  wait(): Promise<ExitInfo> {
    return this.ended;
  }

  async kill(reason: string, graceMs: number = this.options.killGraceMs): Promise<void> {
    // an ended pod is removed by `destroy` (after its exit was recorded)
    if (this.finished) return;
    this.killReason ??= reason;
    await this.delete(Math.ceil(Math.max(0, graceMs) / 1000));
    const slack = new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, graceMs) + DELETE_SLACK_MS).unref());
    await Promise.race([this.ended.then(() => undefined), slack]);
    if (!this.finished) this.finish({ exitCode: null, reason: this.killReason ?? reason });
  }

  private onEvent(event: PodEvent): void {
    if (this.finished) return;
    const pod = event.pod;
    if (event.type === 'DELETED') {
      this.options.onGone();
      this.gone(pod);
      return;
    }
    if (pod.metadata?.deletionTimestamp && this.deleting === undefined) this.deletedByOther = true;
    const progress = readPod(pod);
    switch (progress.kind) {
      case 'running':
        if (progress.podIP !== undefined) {
          this.podIP = progress.podIP;
          this.setIpKnown();
        }
        this.logs.start();
        this.clearFailure();
        return;
      case 'ended':
        this.lastExit = progress.exit;
        if (this.deletedByOther) this.finish({ exitCode: progress.exit.exitCode, error: DELETED_BY_OTHER });
        else if (this.deleting === undefined || this.killReason === undefined) this.finish(progress.exit);
        return;
      case 'pending':
        if (progress.unschedulable !== undefined)
          this.tell('unschedulable', `no node to run on: ${progress.unschedulable}`);
        if (progress.failure === undefined) this.clearFailure();
        else this.failing(progress.failure);
        return;
    }
  }

  /** The pod is gone: how it ended, as best known. */
  private gone(pod: V1Pod): void {
    const progress = readPod(pod);
    const exit = progress.kind === 'ended' ? progress.exit : this.lastExit;
    if (this.killReason !== undefined) {
      this.finish(this.killed(exit));
    } else if (this.deletedByOther || this.deleting === undefined) {
      this.finish({ exitCode: exit?.exitCode ?? null, error: DELETED_BY_OTHER });
    } else {
      this.finish(exit ?? { exitCode: null, reason: 'lost' });
    }
  }

  /** How a killed pod ended: a code above 128 is the kill's signal, with the kill's reason. */
  private killed(exit: ExitInfo | undefined): ExitInfo {
    const reason = this.killReason!;
    const code = exit?.exitCode ?? null;
    if (code === null) return { exitCode: null, signal: 'SIGTERM', reason };
    const signal = code > 128 ? signalName(code - 128) : undefined;
    if (signal !== undefined)
      return { exitCode: null, signal, reason, ...(exit?.oomKilled ? { oomKilled: true } : {}) };
    return { ...exit, exitCode: code, reason };
  }

  /** A start failure: hopeless ones end it at once, others after the pull grace. */
  private failing(failure: StartFailure): void {
    this.tell(failure.reason, failure.message);
    if (failure.hopeless) {
      void this.fail(failure.message);
      return;
    }
    this.failingSince ??= Date.now();
    const left = this.failingSince + this.options.pullGraceMs - Date.now();
    if (left <= 0) {
      void this.fail(`${failure.message}; still failing after ${Math.round(this.options.pullGraceMs / 1000)}s`);
      return;
    }
    clearTimeout(this.failTimer);
    this.failTimer = setTimeout(() => this.failing(failure), left);
  }

  private clearFailure(): void {
    this.failingSince = undefined;
    clearTimeout(this.failTimer);
  }

  /** The platform cannot run it: delete the pod, end errored with `message`. */
  private async fail(message: string): Promise<void> {
    if (this.finished) return;
    this.finish({ exitCode: null, error: message });
    await this.delete(0);
  }

  /** Ask the API server to delete the pod (once); a pod already gone is fine. */
  private delete(graceSeconds: number): Promise<void> {
    this.deleting ??= this.options.api
      .call('delete pod', (options) =>
        this.options.api.core.deleteNamespacedPod(
          { name: this.options.name, namespace: this.options.namespace, gracePeriodSeconds: graceSeconds },
          options,
        ),
      )
      .then(
        () => undefined,
        (error: unknown) => {
          if (statusOf(error) === 404) {
            this.options.onGone();
            if (this.finished) return;
            this.finish(
              this.killReason ? this.killed(this.lastExit) : (this.lastExit ?? { exitCode: null, reason: 'lost' }),
            );
            return;
          }
          this.options.warn(`kubernetes executor: could not delete pod ${this.options.name}: ${apiMessage(error)}`);
        },
      );
    return this.deleting;
  }

  /** End once: the log is drained first, then `wait()` resolves (unless the executor closed). */
  private finish(exit: ExitInfo): void {
    if (this.finished) return;
    this.finished = true;
    this.clearFailure();
    this.unsubscribe();
    this.setIpKnown();
    void (async () => {
      if (exit.exitCode !== null || this.logs.wasStarted) await this.logs.finish();
      else this.logs.stop();
      if (!this.options.closing.aborted) this.endWith(exit);
    })();
  }

  /** One `[pilotage]` stderr line per distinct pending reason. */
  private tell(key: string, message: string): void {
    if (this.told.has(key)) return;
    this.told.add(key);
    this.options.onLog({ stream: 'stderr', line: `[pilotage] ${message}`, ts: Date.now() });
  }
}
