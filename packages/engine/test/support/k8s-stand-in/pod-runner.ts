import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { guarded, log, MERGE_PATCH, statusOf, type ClusterApi } from './cluster-api.js';
import { createArgs } from './container-args.js';
import { containerEnv } from './container-env.js';
import { pullImage, PullFailed } from './image-pull.js';
import { inspectState, podman, podmanChild, STAND_IN_ANNOTATIONS, STAND_IN_LABEL } from './podman.js';
import { mountVolumes, VolumeNotReady } from './volumes.js';

/** How often a pod waiting for an image or a volume is looked at again, ms. */
const RETRY_MS = 1000;

/**
 * What the kubelet does for one pod bound to this node, with Podman as the runtime:
 * - Pending (ContainerCreating) while its volumes are not ready; a missing image is
 *   `ErrImageNeverPull` under pull policy Never, else `ErrImagePull` then `ImagePullBackOff`
 *   (the stand-in never pulls: images must be in Podman's local store), looked at again each
 *   second;
 * - Running once the container started, then Succeeded or Failed with the exit code
 *   (`OOMKilled` when the runtime says so, or for exit 137 under a memory limit: Podman on this
 *   cgroup-v1 host does not report it); `activeDeadlineSeconds` kills it as `DeadlineExceeded`;
 * - a graceful delete stops the container (SIGTERM, SIGKILL after the grace), records its end,
 *   removes it, then confirms the delete (grace 0), as a kubelet does.
 * One container per pod; no init containers, probes, restarts, exec or attach.
 */
export class PodRunner {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly container: k8s.V1Container;
  /** Podman's name of the container, once created */
  containerName: string | undefined;
  /** the container's CRI log file, once created */
  logPath: string | undefined;
  private phase: 'preparing' | 'running' | 'ended' | 'deleting' = 'preparing';
  private deadlineHit = false;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private readonly startTime = new Date().toISOString();
  private readonly podDir: string;

  constructor(
    private readonly api: ClusterApi,
    private readonly node: string,
    stateDir: string,
    private pod: k8s.V1Pod,
  ) {
    this.uid = pod.metadata!.uid!;
    this.namespace = pod.metadata!.namespace!;
    this.name = pod.metadata!.name!;
    this.container = pod.spec!.containers[0]!;
    this.podDir = join(stateDir, 'pods', this.uid);
  }

  /** The container's name in Podman: what `podman ps` shows. */
  private get podmanName(): string {
    return `k8s_${this.container.name}_${this.name}_${this.namespace}_${this.uid.slice(0, 8)}`;
  }

  get ended(): boolean {
    return this.phase === 'ended' || this.phase === 'deleting';
  }

  /** Carry the pod to its end (never throws). */
  async run(): Promise<void> {
    const base = { name: this.container.name, image: this.container.image, imageID: '', restartCount: 0 };
    await this.patch({
      phase: 'Pending',
      hostIP: '127.0.0.1',
      startTime: this.startTime,
      conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: this.startTime }],
      containerStatuses: [
        { ...base, ready: false, started: false, state: { waiting: { reason: 'ContainerCreating' } } },
      ],
    });
    this.armDeadline();
    let pullFailures = 0;
    let lastWaiting = 'ContainerCreating';
    while (this.phase === 'preparing') {
      const waiting = await this.prepareAndStart(base, pullFailures).catch((error: unknown) => {
        log('start failed', this.namespace, this.name, error);
        return { reason: 'CreateContainerError', message: error instanceof Error ? error.message : String(error) };
      });
      if (waiting === undefined) return;
      if (waiting.reason === 'ErrImagePull' || waiting.reason === 'ImagePullBackOff') pullFailures += 1;
      if (waiting.reason !== lastWaiting && this.phase === 'preparing') {
        lastWaiting = waiting.reason;
        await this.patch({
          containerStatuses: [{ ...base, ready: false, started: false, state: { waiting } }],
        });
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }

  /**
   * Mount, check the image, create and start the container; undefined once it runs (its end is
   * then recorded), else why it waits.
   */
  private async prepareAndStart(
    base: Record<string, unknown>,
    pullFailures: number,
  ): Promise<{ reason: string; message: string } | undefined> {
    let mounts;
    try {
      mounts = await mountVolumes(this.api, this.pod, this.podDir);
    } catch (error) {
      if (error instanceof VolumeNotReady) return { reason: 'ContainerCreating', message: error.message };
      throw error;
    }
    const image = this.container.image!;
    const policy = this.container.imagePullPolicy ?? 'IfNotPresent';
    if (policy === 'Always' || (await podman(['image', 'exists', image])).code !== 0) {
      if (policy === 'Never') {
        return {
          reason: 'ErrImageNeverPull',
          message: `Container image "${image}" is not present with pull policy of Never`,
        };
      }
      // a failed pull is followed by a back-off, then tried again, as the kubelet does
      if (pullFailures % 2 === 1) return { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` };
      try {
        await pullImage(this.api, this.pod, image);
        log('pulled', image, 'for', this.namespace, this.name);
      } catch (error) {
        if (!(error instanceof PullFailed)) throw error;
        return { reason: 'ErrImagePull', message: error.message };
      }
    }
    const delayMs = Number(this.pod.metadata?.annotations?.[STAND_IN_ANNOTATIONS.delayMs] ?? 0);
    const waited = Date.now() - Date.parse(this.startTime);
    if (delayMs > waited) {
      return { reason: 'ContainerCreating', message: `the stand-in delays this pod's start by ${delayMs} ms` };
    }
    const env = await containerEnv(this.api, this.pod, this.container);
    if (this.phase !== 'preparing') return undefined;
    const logPath = join(this.podDir, 'container.log');
    await mkdir(this.podDir, { recursive: true });
    const created = await podman(
      createArgs({
        logPath,
        name: this.podmanName,
        pod: this.pod,
        container: this.container,
        env,
        mounts,
        labels: {
          [STAND_IN_LABEL]: this.node,
          'io.kubernetes.pod.uid': this.uid,
          'io.kubernetes.pod.namespace': this.namespace,
          'io.kubernetes.pod.name': this.name,
        },
      }),
    );
    if (created.code !== 0) return { reason: 'CreateContainerError', message: created.stderr.slice(0, 500) };
    this.containerName = this.podmanName;
    this.logPath = logPath;
    if (this.phase !== 'preparing') {
      await podman(['rm', '-f', this.podmanName]);
      return undefined;
    }
    const child = podmanChild(['start', '--attach', this.podmanName]);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.phase = 'running';
    const startedAt = (await inspectState(this.podmanName))?.StartedAt ?? new Date().toISOString();
    log('started', this.namespace, this.name);
    if (this.phase === 'running') {
      await this.patch({
        phase: 'Running',
        podIP: '127.0.0.1',
        podIPs: [{ ip: '127.0.0.1' }],
        conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({
          type,
          status: 'True',
          lastTransitionTime: startedAt,
        })),
        containerStatuses: [{ ...base, ready: true, started: true, state: { running: { startedAt } } }],
      });
    }
    void exited.then(() => this.recordEnd(base));
    return undefined;
  }

  /** The container exited: record how, unless a delete is under way (it records the end itself). */
  private async recordEnd(base: Record<string, unknown>): Promise<void> {
    if (this.phase !== 'running') return;
    this.phase = 'ended';
    clearTimeout(this.deadlineTimer);
    await this.patch(await this.terminatedStatus(base));
  }

  private async terminatedStatus(base: Record<string, unknown>): Promise<Record<string, unknown>> {
    const state = this.containerName === undefined ? undefined : await inspectState(this.containerName);
    const exitCode = state?.ExitCode ?? 137;
    const hasMemoryLimit = this.container.resources?.limits?.['memory'] !== undefined;
    const oom = state?.OOMKilled === true || (exitCode === 137 && hasMemoryLimit && !this.deadlineHit);
    const reason = oom ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
    const finishedAt = state?.FinishedAt ?? new Date().toISOString();
    log('finished', this.namespace, this.name, exitCode, reason);
    return {
      phase: exitCode === 0 && !this.deadlineHit ? 'Succeeded' : 'Failed',
      ...(this.deadlineHit
        ? { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' }
        : {}),
      conditions: ['Ready', 'ContainersReady'].map((type) => ({
        type,
        status: 'False',
        reason: 'PodCompleted',
        lastTransitionTime: finishedAt,
      })),
      containerStatuses: [
        {
          ...base,
          ready: false,
          started: false,
          state: {
            terminated: { exitCode, reason, startedAt: state?.StartedAt ?? this.startTime, finishedAt },
          },
        },
      ],
    };
  }

  /** `activeDeadlineSeconds`, counted from the pod's start on the node. */
  private armDeadline(): void {
    const seconds = this.pod.spec?.activeDeadlineSeconds;
    if (seconds === undefined) return;
    this.deadlineTimer = setTimeout(() => {
      if (this.ended) return;
      this.deadlineHit = true;
      log('deadline exceeded', this.namespace, this.name);
      if (this.phase === 'preparing') {
        this.phase = 'ended';
        void this.patch({
          phase: 'Failed',
          reason: 'DeadlineExceeded',
          message: 'Pod was active on the node longer than the specified deadline',
        });
      } else if (this.containerName !== undefined) {
        void podman(['kill', this.containerName]);
      }
    }, seconds * 1000);
  }

  /**
   * A delete was asked (`deletionTimestamp` set, `gone` once the pod is removed): stop the
   * container within the grace period, record its end, remove it, then confirm the delete.
   */
  async delete(pod: k8s.V1Pod, gone: boolean): Promise<void> {
    if (this.phase === 'deleting') return;
    const wasRunning = this.phase === 'running';
    this.phase = 'deleting';
    clearTimeout(this.deadlineTimer);
    if (this.containerName !== undefined) {
      const grace = pod.metadata?.deletionGracePeriodSeconds ?? 30;
      await podman(['stop', '-t', String(grace), this.containerName]);
      if (wasRunning && !gone) {
        const base = { name: this.container.name, image: this.container.image, imageID: '', restartCount: 0 };
        await this.patch(await this.terminatedStatus(base));
      }
      await podman(['rm', '-f', this.containerName]);
      log('removed container', this.containerName);
    }
    await rm(this.podDir, { recursive: true, force: true }).catch(() => undefined);
    if (!gone) {
      await guarded('confirm delete', () =>
        this.api.core
          .deleteNamespacedPod({ name: this.name, namespace: this.namespace, gracePeriodSeconds: 0 })
          .catch((error: unknown) => {
            if (statusOf(error) !== 404) throw error;
          }),
      );
    }
  }

  /** Remove the container at once (the stand-in is stopping). */
  async kill(): Promise<void> {
    this.phase = 'deleting';
    clearTimeout(this.deadlineTimer);
    if (this.containerName !== undefined) await podman(['rm', '-f', this.containerName]);
    await rm(this.podDir, { recursive: true, force: true }).catch(() => undefined);
  }

  updated(pod: k8s.V1Pod): void {
    this.pod = pod;
    const eviction = pod.metadata?.annotations?.[STAND_IN_ANNOTATIONS.evict];
    if (eviction !== undefined && this.phase === 'running') void this.evict(eviction);
  }

  /**
   * Evict the running pod as a kubelet under node pressure does: kill its container at once, then
   * set the pod Failed with reason Evicted and the container terminated (137).
   */
  private async evict(message: string): Promise<void> {
    this.phase = 'ended';
    clearTimeout(this.deadlineTimer);
    log('evicting', this.namespace, this.name);
    if (this.containerName !== undefined) await podman(['stop', '-t', '0', this.containerName]);
    const base = { name: this.container.name, image: this.container.image, imageID: '', restartCount: 0 };
    const ended = await this.terminatedStatus(base);
    const statuses = ended['containerStatuses'] as { state: { terminated: Record<string, unknown> } }[];
    for (const status of statuses) status.state.terminated['reason'] = 'Error';
    await this.patch({ ...ended, phase: 'Failed', reason: 'Evicted', message });
  }

  private async patch(status: Record<string, unknown>): Promise<void> {
    await guarded(`status of ${this.namespace}/${this.name}`, () =>
      this.api.core.patchNamespacedPodStatus(
        { name: this.name, namespace: this.namespace, body: { status } },
        MERGE_PATCH,
      ),
    );
  }
}
