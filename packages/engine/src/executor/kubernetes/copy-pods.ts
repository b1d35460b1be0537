import { randomBytes } from 'node:crypto';
import type { V1Pod, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { ExecutorError } from '../../domain/errors.js';
import { apiMessage, statusOf, type KubeApi } from './kube-api.js';
import { LABELS } from './labels.js';
import { CONTAINER_NAME } from './pod.js';
import { readPod } from './pod-state.js';
import type { PodWatcher } from './pod-watcher.js';

/** A copy that takes longer than this fails (its pod is deleted), ms. */
const COPY_TIMEOUT_MS = 10 * 60_000;
/** How much of a failed copy's log its error quotes, bytes. */
const LOG_TAIL_BYTES = 2000;

/** One claim mounted by a copy pod. */
export interface CopyMount {
  readonly claim: string;
  readonly mountPath: string;
  readonly readOnly?: boolean;
}

/** How copy pods are made. */
export interface CopyPodSettings {
  readonly namespace: string;
  /** labels of everything this engine creates (managed, engine id) */
  readonly labels: Readonly<Record<string, string>>;
  /** an image with a POSIX `sh`, `cp -a`, `mkdir -p`, `rm -rf` (busybox is enough) */
  readonly image: string;
  readonly imagePullPolicy: string;
  /** how long a start failure that may pass (ErrImagePull…) is tolerated, ms */
  readonly pullGraceMs: number;
  readonly serviceAccountName?: string;
}

/**
 * Short-lived pods that copy files between claims (a run's workspace, the engine's cache
 * folder, an earlier run's kept workspace): the way to reach a claim's files from the engine,
 * as a step of a Tekton task would. Each pod runs one POSIX shell script with its arguments
 * (never interpolated into the script), mounts the claims given, and is followed through the
 * executor's shared pod watch; it is deleted once it ended. A copy that fails rejects with an
 * ExecutorError quoting the end of the pod's log. Costs two API requests (create, delete), three
 * when it fails (its log).
 */
export class CopyPods {
  constructor(
    private readonly api: KubeApi,
    private readonly watcher: PodWatcher,
    private readonly settings: CopyPodSettings,
  ) {}

  /**
   * Run `script` (`sh -c script copy ...args`) in a pod of run `runId` mounting `mounts`, as
   * the image's user, or as `runAs` (the engine's own user, for files the engine later removes).
   */
  async run(
    what: string,
    runId: string,
    mounts: readonly CopyMount[],
    script: string,
    args: readonly string[],
    runAs?: { readonly uid: number; readonly gid: number },
  ): Promise<void> {
    const name = `pilotage-copy-${randomBytes(6).toString('hex')}`;
    const { namespace } = this.settings;
    const volumes: V1Volume[] = mounts.map((m, i) => ({
      name: `claim-${i}`,
      persistentVolumeClaim: { claimName: m.claim, ...(m.readOnly ? { readOnly: true } : {}) },
    }));
    const volumeMounts: V1VolumeMount[] = mounts.map((m, i) => ({
      name: `claim-${i}`,
      mountPath: m.mountPath,
      ...(m.readOnly ? { readOnly: true } : {}),
    }));
    const pod: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels: { ...this.settings.labels, [LABELS.runId]: runId, [LABELS.role]: 'copy' } },
      spec: {
        restartPolicy: 'Never',
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        ...(runAs === undefined ? {} : { securityContext: { runAsUser: runAs.uid, runAsGroup: runAs.gid } }),
        activeDeadlineSeconds: COPY_TIMEOUT_MS / 1000,
        ...(this.settings.serviceAccountName === undefined
          ? {}
          : { serviceAccountName: this.settings.serviceAccountName }),
        containers: [
          {
            name: CONTAINER_NAME,
            image: this.settings.image,
            imagePullPolicy: this.settings.imagePullPolicy,
            command: ['sh', '-c', script, 'copy', ...args],
            volumeMounts,
          },
        ],
        volumes,
      },
    };
    const ended = this.ended(name);
    try {
      await this.api.call('create pod', (o) => this.api.core.createNamespacedPod({ namespace, body: pod }, o));
      const outcome = await ended.promise;
      if (outcome !== undefined) {
        const log = outcome === 'exited' ? await this.logTail(name) : '';
        const why = [outcome === 'exited' ? 'the copy failed' : outcome, log].filter((s) => s !== '').join(': ');
        throw new ExecutorError(`cannot ${what}: ${why}`, { retryable: true });
      }
    } catch (error) {
      if (error instanceof ExecutorError) throw error;
      throw new ExecutorError(`cannot ${what}: ${apiMessage(error)}`, { cause: error, retryable: true });
    } finally {
      ended.stop();
      await this.api
        .call('delete pod', (o) => this.api.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }, o))
        .catch((error: unknown) => {
          if (statusOf(error) !== 404) throw error;
        })
        .catch(() => undefined);
    }
  }

  /**
   * Resolves when pod `name` ended: undefined when it succeeded, `exited` when its script
   * failed, else why it never ran (an image that cannot be pulled, a deletion, the time limit).
   */
  private ended(name: string): { promise: Promise<string | undefined>; stop: () => void } {
    let settle: (outcome: string | undefined) => void = () => undefined;
    const promise = new Promise<string | undefined>((resolve) => (settle = resolve));
    let failingSince: number | undefined;
    const timer = setTimeout(() => settle(`no end after ${COPY_TIMEOUT_MS / 1000}s`), COPY_TIMEOUT_MS);
    const unsubscribe = this.watcher.subscribe(name, (event) => {
      if (event.type === 'DELETED') return settle('its pod was deleted');
      const progress = readPod(event.pod);
      if (progress.kind === 'ended') {
        const { exitCode, error } = progress.exit;
        return settle(error ?? (exitCode === 0 ? undefined : 'exited'));
      }
      if (progress.kind === 'pending' && progress.failure !== undefined) {
        failingSince ??= Date.now();
        if (progress.failure.hopeless || Date.now() - failingSince > this.settings.pullGraceMs) {
          settle(progress.failure.message);
        }
      } else {
        failingSince = undefined;
      }
      return undefined;
    });
    return {
      promise,
      stop: () => {
        clearTimeout(timer);
        unsubscribe();
      },
    };
  }

  private async logTail(name: string): Promise<string> {
    try {
      const response = await this.api.stream(
        'read log',
        `/api/v1/namespaces/${encodeURIComponent(this.settings.namespace)}/pods/${encodeURIComponent(name)}/log`,
        { container: CONTAINER_NAME },
        new AbortController().signal,
      );
      let text = '';
      for await (const chunk of response.body)
        text = (text + (chunk as Buffer).toString('utf8')).slice(-LOG_TAIL_BYTES);
      return text.trim().replace(/\s*\n\s*/g, '; ');
    } catch {
      return '';
    }
  }
}

/** Copies `paths` (the arguments after the source folder) from `$1` into /workspace: folders merged, files replaced. */
export const INTO_WORKSPACE = `set -e
src=$1; shift
for p; do
  if [ -d "$src/$p" ] && [ ! -L "$src/$p" ]; then
    mkdir -p "/workspace/$p"; cp -a "$src/$p/." "/workspace/$p/"
  else
    mkdir -p "$(dirname "/workspace/$p")"; rm -rf "/workspace/$p"; cp -a "$src/$p" "/workspace/$p"
  fi
done`;

/** Copies those of `paths` (after the target folder `$1`) that exist in /workspace into `$1`. */
export const OUT_OF_WORKSPACE = `set -e
dst=$1; shift
for p; do
  if [ -e "/workspace/$p" ] || [ -L "/workspace/$p" ]; then
    mkdir -p "$(dirname "$dst/$p")"; cp -a "/workspace/$p" "$dst/$p"
  fi
done`;

/** Empties /workspace, then copies all of /from into it. */
export const WHOLE_WORKSPACE = `set -e
rm -rf /workspace/* /workspace/.[!.]* /workspace/..?*
cp -a /from/. /workspace/`;
