import type { V1PersistentVolumeClaim, V1Secret } from '@kubernetes/client-node';
import { ExecutorError } from '../../domain/errors.js';
import { registryHostOf } from '../docker/registry-auth.js';
import type { RegistryAuthProvider } from '../docker/image-puller.js';
import type { RunResources, RunScope, RunWorkspace } from '../executor.js';
import { apiMessage, statusOf, type KubeApi } from './kube-api.js';
import { type CopyPods, WHOLE_WORKSPACE } from './copy-pods.js';
import { ANNOTATIONS, claimNameFor, engineSelector, LABELS, labelValue, pullSecretNameFor } from './labels.js';

/** Where the run's workspace is mounted in every pod. */
export const POD_WORKSPACE_MOUNT = '/workspace';

/** How run workspaces are claimed. */
export interface ClaimSettings {
  readonly namespace: string;
  readonly engineId: string;
  /** StorageClass of the claims (absent: the cluster's default) */
  readonly storageClass?: string;
  readonly accessMode: 'ReadWriteOnce' | 'ReadWriteMany';
  /** requested size, a quantity (`1Gi`) */
  readonly size: string;
  /** a claim for every run, even one with a single action (an emptyDir cannot be kept) */
  readonly alwaysClaim: boolean;
}

/**
 * The run-scoped resources of the Kubernetes executor:
 * - the workspace: a PersistentVolumeClaim per run (`pilotage-ws-<run>`), mounted by every pod
 *   of the run; a run with a single action on this executor gets an `emptyDir` in its pod
 *   instead (nothing to share), unless `alwaysClaim`, the action caches paths, or the run starts
 *   from a copy of an earlier run's workspace (`copyFrom`: a copy pod fills the new claim from
 *   the earlier one, all or nothing through the claim's `copied` annotation);
 * - image pull Secrets made from the secret store's registry credentials, one per run and
 *   registry, created at the first pod that needs one.
 * Everything is labelled with the engine and the run; `release` deletes it (or labels the claim
 * kept), `list` finds the claims an engine left.
 */
export class RunClaims {
  /** runs prepared by this process whose workspace is an emptyDir (nothing to release) */
  private readonly emptyRuns = new Set<string>();
  /** runs prepared by this process with a claim */
  private readonly claimedRuns = new Set<string>();
  private readonly pullSecrets = new Map<string, Promise<string>>();

  constructor(
    private readonly api: KubeApi,
    private readonly settings: ClaimSettings,
    private readonly registryAuth?: RegistryAuthProvider,
    private readonly copyPods?: CopyPods,
  ) {}

  async prepare(scope: RunScope): Promise<RunWorkspace> {
    const { copyFrom } = scope;
    const shared = scope.actions > 1 || scope.cachedPaths === true || copyFrom !== undefined;
    if (!shared && !this.settings.alwaysClaim) {
      this.emptyRuns.add(scope.runId);
      return { mountPath: POD_WORKSPACE_MOUNT };
    }
    const name = claimNameFor(scope.runId);
    const claim: V1PersistentVolumeClaim = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name,
        namespace: this.settings.namespace,
        labels: this.labels(scope.runId, scope.workflow),
        // the copy is pending until `copied` is set: a claim without it is filled again
        ...(copyFrom === undefined ? {} : { annotations: { [ANNOTATIONS.copyFrom]: copyFrom } }),
      },
      spec: {
        accessModes: [this.settings.accessMode],
        resources: { requests: { storage: this.settings.size } },
        ...(this.settings.storageClass === undefined ? {} : { storageClassName: this.settings.storageClass }),
      },
    };
    let copyPending = copyFrom !== undefined;
    try {
      await this.api.call('create claim', (options) =>
        this.api.core.createNamespacedPersistentVolumeClaim(
          { namespace: this.settings.namespace, body: claim },
          options,
        ),
      );
    } catch (error) {
      // 409: the run's claim exists (a run resumed after a restart): its content is the workspace,
      // unless the copy that was to fill it never finished
      if (statusOf(error) !== 409) {
        throw new ExecutorError(`cannot create the workspace claim ${name}: ${apiMessage(error)}`, {
          cause: error,
          retryable: true,
        });
      }
      copyPending = copyFrom !== undefined && (await this.copyUnfinished(name));
    }
    this.claimedRuns.add(scope.runId);
    if (copyPending && copyFrom !== undefined && (await this.copyInto(name, scope.runId, copyFrom))) {
      return { mountPath: POD_WORKSPACE_MOUNT, ref: name, copiedFrom: copyFrom };
    }
    return { mountPath: POD_WORKSPACE_MOUNT, ref: name };
  }

  /** The claim was made to be a copy, and the copy is not marked done. */
  private async copyUnfinished(name: string): Promise<boolean> {
    const found = await this.api.call('read claim', (options) =>
      this.api.core.readNamespacedPersistentVolumeClaim({ name, namespace: this.settings.namespace }, options),
    );
    const annotations = found.metadata?.annotations ?? {};
    return annotations[ANNOTATIONS.copyFrom] !== undefined && annotations[ANNOTATIONS.copied] !== 'true';
  }

  /**
   * Fill claim `name` with a copy of run `copyFrom`'s workspace claim (a copy pod mounting both;
   * the target is emptied first, so a repeated copy is whole), then mark it copied. False when
   * that run has no claim (it had an emptyDir, or it is gone): the workspace stays empty.
   */
  private async copyInto(name: string, runId: string, copyFrom: string): Promise<boolean> {
    const source = claimNameFor(copyFrom);
    const exists = await this.api
      .call('read claim', (options) =>
        this.api.core.readNamespacedPersistentVolumeClaim(
          { name: source, namespace: this.settings.namespace },
          options,
        ),
      )
      .then(
        (found) => found.metadata?.deletionTimestamp === undefined,
        (error: unknown) => {
          if (statusOf(error) === 404) return false;
          throw new ExecutorError(
            `cannot read the workspace claim ${source} of run ${copyFrom}: ${apiMessage(error)}`,
            {
              cause: error,
              retryable: true,
            },
          );
        },
      );
    if (exists) {
      if (this.copyPods === undefined) {
        throw new ExecutorError(
          `cannot copy the workspace of run ${copyFrom} for run ${runId}: no copy pods configured`,
        );
      }
      await this.copyPods.run(
        `copy the workspace of run ${copyFrom} (claim ${source}) for run ${runId}`,
        runId,
        [
          { claim: source, mountPath: '/from', readOnly: true },
          { claim: name, mountPath: POD_WORKSPACE_MOUNT },
        ],
        WHOLE_WORKSPACE,
        [],
      );
    }
    await this.api.call('annotate claim', () =>
      this.api.core.patchNamespacedPersistentVolumeClaim(
        {
          name,
          namespace: this.settings.namespace,
          body: { metadata: { annotations: { [ANNOTATIONS.copied]: 'true' } } },
        },
        this.api.mergePatch,
      ),
    );
    return exists;
  }

  /**
   * The pull Secret for `image` in run `runId`, when the secret store has credentials for its
   * registry (created once per run and registry); none otherwise.
   */
  async pullSecretsFor(runId: string, image: string): Promise<string[]> {
    const found = (await this.registryAuth?.(image)) as Record<string, string | undefined> | undefined;
    if (found === undefined) return [];
    const auth = { username: found['username'], password: found['password'], serveraddress: found['serveraddress'] };
    const host = registryHostOf(image);
    const key = `${runId}\0${host}`;
    let made = this.pullSecrets.get(key);
    if (made === undefined) {
      made = this.createPullSecret(runId, host, auth);
      this.pullSecrets.set(key, made);
      made.catch(() => this.pullSecrets.delete(key));
    }
    return [await made];
  }

  private async createPullSecret(
    runId: string,
    host: string,
    auth: { username?: string | undefined; password?: string | undefined; serveraddress?: string | undefined },
  ): Promise<string> {
    if (auth.username === undefined || auth.password === undefined) {
      throw new ExecutorError(
        `the registry credentials for ${host} are an identity token: Kubernetes pull Secrets need a username and password`,
      );
    }
    const name = pullSecretNameFor(runId, host);
    const server = auth.serveraddress ?? host;
    const config = {
      auths: {
        [server]: {
          username: auth.username,
          password: auth.password,
          auth: Buffer.from(`${auth.username}:${auth.password}`).toString('base64'),
        },
      },
    };
    const secret: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/dockerconfigjson',
      metadata: { name, namespace: this.settings.namespace, labels: this.labels(runId) },
      data: { '.dockerconfigjson': Buffer.from(JSON.stringify(config)).toString('base64') },
    };
    try {
      await this.api.call('create secret', (options) =>
        this.api.core.createNamespacedSecret({ namespace: this.settings.namespace, body: secret }, options),
      );
    } catch (error) {
      if (statusOf(error) !== 409) {
        throw new ExecutorError(`cannot create the image pull Secret ${name}: ${apiMessage(error)}`, { cause: error });
      }
    }
    return name;
  }

  /** Delete the run's claim (or label it kept) and its pull Secrets; what is gone is fine. */
  async release(runId: string, keep: boolean): Promise<void> {
    const emptyDir = this.emptyRuns.delete(runId);
    const secrets = [...this.pullSecrets.keys()].filter((key) => key.startsWith(`${runId}\0`));
    for (const key of secrets) this.pullSecrets.delete(key);
    // a run this process prepared knows what it made; after a restart, ask for both
    const known = this.claimedRuns.delete(runId) || emptyDir;
    if (secrets.length > 0 || !known) {
      await this.ignoreMissing(() =>
        this.api.call('delete secrets', (options) =>
          this.api.core.deleteCollectionNamespacedSecret(
            {
              namespace: this.settings.namespace,
              labelSelector: `${engineSelector(this.settings.engineId)},${LABELS.runId}=${runId}`,
            },
            options,
          ),
        ),
      );
    }
    if (emptyDir) return;
    const name = claimNameFor(runId);
    if (keep) {
      await this.ignoreMissing(() =>
        this.api.call('label claim', () =>
          this.api.core.patchNamespacedPersistentVolumeClaim(
            { name, namespace: this.settings.namespace, body: { metadata: { labels: { [LABELS.kept]: 'true' } } } },
            this.api.mergePatch,
          ),
        ),
      );
      return;
    }
    await this.ignoreMissing(() =>
      this.api.call('delete claim', (options) =>
        this.api.core.deleteNamespacedPersistentVolumeClaim({ name, namespace: this.settings.namespace }, options),
      ),
    );
  }

  /** The runs whose claims this engine still has. */
  async list(): Promise<RunResources[]> {
    const claims = await this.api.call('list claims', (options) =>
      this.api.core.listNamespacedPersistentVolumeClaim(
        { namespace: this.settings.namespace, labelSelector: engineSelector(this.settings.engineId) },
        options,
      ),
    );
    return claims.items
      .filter((claim) => claim.metadata?.deletionTimestamp === undefined)
      .map((claim) => ({
        runId: claim.metadata?.labels?.[LABELS.runId] ?? '',
        kept: claim.metadata?.labels?.[LABELS.kept] === 'true',
      }))
      .filter((entry) => entry.runId !== '');
  }

  private labels(runId: string, workflow?: string): Record<string, string> {
    return {
      [LABELS.managed]: 'true',
      [LABELS.engineId]: this.settings.engineId,
      [LABELS.runId]: runId,
      ...(workflow === undefined ? {} : { [LABELS.workflow]: labelValue(workflow) }),
    };
  }

  private async ignoreMissing(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      if (statusOf(error) !== 404) {
        throw new ExecutorError(`cannot release run resources: ${apiMessage(error)}`, {
          cause: error,
          retryable: true,
        });
      }
    }
  }
}
