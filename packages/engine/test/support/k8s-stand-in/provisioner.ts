import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { guarded, log, MERGE_PATCH, statusOf, type ClusterApi } from './cluster-api.js';

/** The provisioner name a StorageClass uses to get the stand-in's host-folder volumes. */
export const STAND_IN_PROVISIONER = 'pilotage.dev/stand-in-hostpath';

/**
 * `hostPathTemplate` of a StorageClass: `{namespace}`, `{name}`, `{uid}` and `{label:KEY}` (a
 * label of the claim) are replaced. Default: `<state>/pv/{namespace}/{name}`.
 */
export function hostPathFor(template: string, claim: k8s.V1PersistentVolumeClaim): string {
  return template.replace(/\{(namespace|name|uid|label:[^}]+)\}/g, (_, key: string) => {
    const meta = claim.metadata ?? {};
    const value = key.startsWith('label:')
      ? meta.labels?.[key.slice(6)]
      : key === 'namespace'
        ? meta.namespace
        : key === 'name'
          ? meta.name
          : meta.uid;
    if (value === undefined || value === '' || value.includes('/') || value.includes('..')) {
      throw new Error(`claim ${meta.namespace}/${meta.name} has no usable ${key} for ${template}`);
    }
    return value;
  });
}

/**
 * What the controller-manager and a hostPath provisioner would do for claims, played by the
 * stand-in (none of them runs here):
 * - a pending claim of a StorageClass whose provisioner is STAND_IN_PROVISIONER gets a
 *   hostPath PersistentVolume (the class's `hostPathTemplate`, the folder made), and both are
 *   bound (claimRef, volumeName, phase Bound), as the PV controller does;
 * - a claim being deleted loses its `kubernetes.io/pvc-protection` finalizer once no running pod
 *   uses it (the pvc-protection controller);
 * - the volume of a deleted claim is deleted with its folder under reclaim policy Delete
 *   (released under Retain).
 */
export class Provisioner {
  constructor(
    private readonly api: ClusterApi,
    private readonly stateDir: string,
  ) {}

  async onClaim(type: string, claim: k8s.V1PersistentVolumeClaim): Promise<void> {
    if (type === 'DELETED') return this.released(claim);
    if (claim.metadata?.deletionTimestamp) return this.unprotect(claim);
    if (!claim.spec?.volumeName && claim.status?.phase !== 'Bound') await this.provision(claim);
  }

  private async provision(claim: k8s.V1PersistentVolumeClaim): Promise<void> {
    const className = claim.spec?.storageClassName;
    if (!className) return;
    const storageClass = await this.api.storage.readStorageClass({ name: className }).catch(() => undefined);
    if (storageClass?.provisioner !== STAND_IN_PROVISIONER) return;
    const { namespace, name, uid } = claim.metadata as { namespace: string; name: string; uid: string };
    const template =
      storageClass.parameters?.['hostPathTemplate'] ?? join(this.stateDir, 'pv', '{namespace}', '{name}');
    let path: string;
    try {
      path = hostPathFor(template, claim);
    } catch (error) {
      log('provision', (error as Error).message);
      return;
    }
    await mkdir(path, { recursive: true });
    const pvName = `pvc-${uid}`;
    const size = claim.spec?.resources?.requests?.['storage'] ?? '1Gi';
    await this.api.core
      .createPersistentVolume({
        body: {
          metadata: { name: pvName, annotations: { 'pv.kubernetes.io/provisioned-by': STAND_IN_PROVISIONER } },
          spec: {
            capacity: { storage: size },
            accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
            persistentVolumeReclaimPolicy: storageClass.reclaimPolicy ?? 'Delete',
            storageClassName: className,
            hostPath: { path, type: 'DirectoryOrCreate' },
            claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace, name, uid },
          },
        },
      })
      .catch((error: unknown) => {
        if (statusOf(error) !== 409) throw error;
      });
    await guarded('bind pv', () =>
      this.api.core.patchPersistentVolumeStatus({ name: pvName, body: { status: { phase: 'Bound' } } }, MERGE_PATCH),
    );
    await guarded('bind claim', () =>
      this.api.core.patchNamespacedPersistentVolumeClaim(
        {
          name,
          namespace,
          body: {
            metadata: { annotations: { 'pv.kubernetes.io/bind-completed': 'yes' } },
            spec: { volumeName: pvName },
          },
        },
        MERGE_PATCH,
      ),
    );
    await guarded('claim status', () =>
      this.api.core.patchNamespacedPersistentVolumeClaimStatus(
        {
          name,
          namespace,
          body: { status: { phase: 'Bound', accessModes: claim.spec?.accessModes, capacity: { storage: size } } },
        },
        MERGE_PATCH,
      ),
    );
    log('provisioned', `${namespace}/${name}`, '->', path);
  }

  private async unprotect(claim: k8s.V1PersistentVolumeClaim): Promise<void> {
    const finalizers = claim.metadata?.finalizers ?? [];
    if (!finalizers.includes('kubernetes.io/pvc-protection')) return;
    const { namespace, name } = claim.metadata as { namespace: string; name: string };
    const pods = await this.api.core.listNamespacedPod({ namespace });
    const inUse = pods.items.some(
      (pod) =>
        !['Succeeded', 'Failed'].includes(pod.status?.phase ?? '') &&
        (pod.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === name),
    );
    if (inUse) return;
    await guarded('pvc-protection', () =>
      this.api.core.patchNamespacedPersistentVolumeClaim(
        {
          name,
          namespace,
          body: { metadata: { finalizers: finalizers.filter((f) => f !== 'kubernetes.io/pvc-protection') } },
        },
        MERGE_PATCH,
      ),
    );
  }

  private async released(claim: k8s.V1PersistentVolumeClaim): Promise<void> {
    const pvName = claim.spec?.volumeName;
    if (!pvName) return;
    const pv = await this.api.core.readPersistentVolume({ name: pvName }).catch(() => undefined);
    if (pv === undefined || pv.spec?.claimRef?.uid !== claim.metadata?.uid) return;
    if (pv.spec?.persistentVolumeReclaimPolicy !== 'Delete') {
      await guarded('release pv', () =>
        this.api.core.patchPersistentVolumeStatus(
          { name: pvName, body: { status: { phase: 'Released' } } },
          MERGE_PATCH,
        ),
      );
      return;
    }
    if (pv.spec?.hostPath?.path) await rm(pv.spec.hostPath.path, { recursive: true, force: true });
    await guarded('delete pv', async () => {
      await this.api.core.deletePersistentVolume({ name: pvName }).catch((error: unknown) => {
        if (statusOf(error) !== 404) throw error;
      });
      // the pv-protection controller's part: the finalizer goes once the claim is gone
      await this.api.core
        .patchPersistentVolume({ name: pvName, body: { metadata: { finalizers: null } } }, MERGE_PATCH)
        .catch((error: unknown) => {
          if (statusOf(error) !== 404) throw error;
        });
    });
    log('deleted volume', pvName);
  }
}
