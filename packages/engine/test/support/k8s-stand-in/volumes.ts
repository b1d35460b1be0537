import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import type { ClusterApi } from './cluster-api.js';

/** A volume that cannot be mounted yet (an unbound claim): the pod stays ContainerCreating. */
export class VolumeNotReady extends Error {}

/**
 * The host folders of a pod's volumes, as a real kubelet would mount them:
 * - `emptyDir`: a folder of the pod's own, removed with the pod;
 * - `configMap` and `secret`: a folder holding their keys as files (read-only mounts);
 * - `persistentVolumeClaim`: the `hostPath` of the PersistentVolume the claim is bound to
 *   (the stand-in's provisioner makes those); unbound → VolumeNotReady;
 * - `hostPath`: the path itself.
 * Other volume types are not supported (an Error naming them).
 */
export async function mountVolumes(
  api: ClusterApi,
  pod: k8s.V1Pod,
  podDir: string,
): Promise<Map<string, { path: string; readOnly: boolean }>> {
  const namespace = pod.metadata!.namespace!;
  const mounts = new Map<string, { path: string; readOnly: boolean }>();
  for (const volume of pod.spec?.volumes ?? []) {
    const own = join(podDir, 'volumes', volume.name);
    if (volume.emptyDir) {
      await mkdir(own, { recursive: true });
      mounts.set(volume.name, { path: own, readOnly: false });
    } else if (volume.configMap) {
      const map = await api.core.readNamespacedConfigMap({ name: volume.configMap.name!, namespace });
      await writeKeys(own, map.data ?? {}, volume.configMap.items, volume.configMap.defaultMode);
      mounts.set(volume.name, { path: own, readOnly: true });
    } else if (volume.secret) {
      const secret = await api.core.readNamespacedSecret({ name: volume.secret.secretName!, namespace });
      const data = Object.fromEntries(
        Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
      );
      await writeKeys(own, data, volume.secret.items, volume.secret.defaultMode);
      mounts.set(volume.name, { path: own, readOnly: true });
    } else if (volume.persistentVolumeClaim) {
      const claim = await api.core.readNamespacedPersistentVolumeClaim({
        name: volume.persistentVolumeClaim.claimName,
        namespace,
      });
      const pvName = claim.spec?.volumeName;
      if (!pvName || claim.status?.phase !== 'Bound') {
        throw new VolumeNotReady(`persistentvolumeclaim "${claim.metadata?.name}" is not bound`);
      }
      const pv = await api.core.readPersistentVolume({ name: pvName });
      const path = pv.spec?.hostPath?.path;
      if (!path) throw new Error(`persistentvolume ${pvName} is not a hostPath volume`);
      await mkdir(path, { recursive: true });
      mounts.set(volume.name, { path, readOnly: volume.persistentVolumeClaim.readOnly === true });
    } else if (volume.hostPath) {
      mounts.set(volume.name, { path: volume.hostPath.path, readOnly: false });
    } else {
      throw new Error(`volume ${volume.name}: only emptyDir, configMap, secret, persistentVolumeClaim and hostPath`);
    }
  }
  return mounts;
}

async function writeKeys(
  dir: string,
  data: Record<string, string>,
  items: readonly k8s.V1KeyToPath[] | undefined,
  defaultMode: number | undefined,
): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const files = items ?? Object.keys(data).map((key) => ({ key, path: key, mode: undefined }));
  for (const item of files) {
    const file = join(dir, item.path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, data[item.key] ?? '');
    await chmod(file, item.mode ?? defaultMode ?? 0o644);
  }
}
