import { createInterface } from 'node:readline';
import type { V1Pod } from '@kubernetes/client-node';
import { apiMessage, type KubeApi } from './kube-api.js';

/** A change to one pod, as the watch reports it. */
export interface PodEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly pod: V1Pod;
}

/** Pause before listing again after an error, ms. */
const RETRY_MS = 500;

/**
 * One watch over the pods of an engine in a namespace (by label), shared by every task:
 * - it lists them first (the list's resourceVersion), then watches from there; a watch that ends
 *   (the API server closes them every few minutes) resumes from the last resourceVersion seen
 *   (events and bookmarks), so nothing is missed or repeated;
 * - a 410 Gone (the version was compacted away) lists again: each listed pod is delivered as
 *   MODIFIED, and a pod known before but missing from the new list as DELETED;
 * - an error (the API server unreachable) lists again after a pause.
 * Subscribers get the pod's last known state at once, then every change. The watch starts at
 * the first subscription and runs until `close()`.
 */
export class PodWatcher {
  private readonly pods = new Map<string, V1Pod>();
  private readonly listeners = new Map<string, Set<(event: PodEvent) => void>>();
  private readonly closing = new AbortController();
  private running: Promise<void> | undefined;
  private resourceVersion: string | undefined;
  private relistCount = 0;
  private firstList: Promise<void> | undefined;
  private listed: (() => void) | undefined;

  constructor(
    private readonly api: KubeApi,
    private readonly namespace: string,
    private readonly labelSelector: string,
    private readonly warn: (message: string) => void,
  ) {}

  /** How many times a 410 Gone made the watch list again (for tests and diagnostics). */
  get relists(): number {
    return this.relistCount;
  }

  /**
   * Receive the changes of pod `name` (and its last known state, if any, at once). Returns the
   * function that stops them.
   */
  subscribe(name: string, listener: (event: PodEvent) => void): () => void {
    let set = this.listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener);
    this.start();
    const known = this.pods.get(name);
    if (known !== undefined) listener({ type: 'MODIFIED', pod: known });
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(name);
    };
  }

  /** Resolves once the first list is done (the watch started). */
  ready(): Promise<void> {
    this.start();
    return this.firstList!;
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.running;
  }

  private start(): void {
    if (this.running !== undefined) return;
    this.firstList = new Promise((resolve) => (this.listed = resolve));
    this.running = this.loop();
  }

  private async loop(): Promise<void> {
    const signal = this.closing.signal;
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.list();
        this.listed?.();
        const outcome = await this.watch(signal);
        if (outcome === 'gone') {
          this.relistCount += 1;
          this.resourceVersion = undefined;
        }
      } catch (error) {
        if (signal.aborted) return;
        this.warn(`kubernetes executor: watching pods in ${this.namespace}: ${apiMessage(error)}; listing again`);
        this.resourceVersion = undefined;
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  private async list(): Promise<void> {
    const listed = await this.api.call('list pods', (options) =>
      this.api.core.listNamespacedPod({ namespace: this.namespace, labelSelector: this.labelSelector }, options),
    );
    const seen = new Set<string>();
    for (const pod of listed.items) {
      const name = pod.metadata?.name ?? '';
      seen.add(name);
      this.deliver({ type: this.pods.has(name) ? 'MODIFIED' : 'ADDED', pod });
    }
    for (const [name, pod] of [...this.pods]) if (!seen.has(name)) this.deliver({ type: 'DELETED', pod });
    this.resourceVersion = listed.metadata?.resourceVersion;
  }

  /** Watch from the current resourceVersion until the stream ends; `gone` on 410. */
  private async watch(signal: AbortSignal): Promise<'ended' | 'gone'> {
    const response = await this.api.stream(
      'watch pods',
      `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods`,
      {
        watch: 'true',
        labelSelector: this.labelSelector,
        allowWatchBookmarks: 'true',
        ...(this.resourceVersion === undefined ? {} : { resourceVersion: this.resourceVersion }),
      },
      signal,
    );
    if (response.status === 410) {
      response.body.resume();
      return 'gone';
    }
    if (response.status !== 200) {
      const text = await readAll(response.body);
      throw new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
    }
    let gone = false;
    const lines = createInterface({ input: response.body, crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        if (line === '') continue;
        const event = JSON.parse(line) as { type: string; object: V1Pod & { code?: number } };
        if (event.type === 'ERROR') {
          if (event.object.code === 410) gone = true;
          else throw new Error(`watch error: ${JSON.stringify(event.object).slice(0, 300)}`);
          break;
        }
        this.resourceVersion = event.object.metadata?.resourceVersion ?? this.resourceVersion;
        if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') {
          this.deliver({ type: event.type, pod: event.object });
        }
      }
    } catch (error) {
      if (signal.aborted) return 'ended';
      throw error;
    } finally {
      response.body.destroy();
    }
    return gone ? 'gone' : 'ended';
  }

  private deliver(event: PodEvent): void {
    const name = event.pod.metadata?.name ?? '';
    if (event.type === 'DELETED') this.pods.delete(name);
    else this.pods.set(name, event.pod);
    for (const listener of [...(this.listeners.get(name) ?? [])]) {
      try {
        listener(event);
      } catch (error) {
        this.warn(`kubernetes executor: a pod listener threw: ${String(error)}`);
      }
    }
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}
