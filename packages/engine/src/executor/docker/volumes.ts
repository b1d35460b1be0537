import type Docker from 'dockerode';
import { ExecutorError } from '../../domain/errors.js';
import type { PlannedSeed, PlannedVolume } from './convert.js';
import { runtimeError, statusOf } from './docker-errors.js';
import { LABELS } from './labels.js';
import { tarFiles } from './tar-files.js';

/** Where a seeding container mounts the volume it fills. */
const SEED_TARGET = '/pilotage-seed';

/** Create the task's volumes; one that already exists (a repeated start) is reused. */
export async function createVolumes(docker: Docker, volumes: readonly PlannedVolume[]): Promise<void> {
  for (const volume of volumes) {
    try {
      await docker.createVolume({ Name: volume.name, Labels: { ...volume.labels } });
    } catch (error) {
      if (statusOf(error) !== 409) throw runtimeError(`cannot create volume ${volume.name}`, error);
    }
  }
}

/**
 * Write each seed's files into its mount before the component starts. A seeding container is
 * created (never started) from the component's own image with the mount read-write, and the
 * files are uploaded into it as a tar archive, then it is removed. This works for read-only
 * mounts of the component, needs no shell or tool in the image, and works against a remote
 * runtime (nothing is written on the engine's machine).
 */
export async function seedMounts(
  docker: Docker,
  image: string,
  seeds: readonly PlannedSeed[],
  labels: Readonly<Record<string, string>>,
): Promise<void> {
  for (const seed of seeds) {
    let archive: Buffer;
    try {
      archive = tarFiles(seed.files, { mtimeSec: Math.floor(Date.now() / 1000) });
    } catch (error) {
      throw new ExecutorError((error as Error).message, { cause: error });
    }
    const helper = await docker
      .createContainer({
        Image: image,
        Entrypoint: ['true'],
        Cmd: [],
        Labels: { ...labels },
        HostConfig: { NetworkMode: 'none', Mounts: [{ ...seed.mount, Target: SEED_TARGET, ReadOnly: false }] },
      })
      .catch((error: unknown) => {
        throw runtimeError(`cannot prepare the initial data of ${seed.mount.Target}`, error);
      });
    try {
      await helper.putArchive(archive, { path: SEED_TARGET });
    } catch (error) {
      throw runtimeError(`cannot write the initial data of ${seed.mount.Target}`, error);
    } finally {
      await helper.remove({ force: true, v: true }).catch(() => undefined);
    }
  }
}

/** Remove the volumes owned by a task ref. Missing ones are fine; others' failures are thrown. */
export async function removeOwnedVolumes(docker: Docker, owner: string): Promise<void> {
  const listed = await docker.listVolumes({ filters: { label: [`${LABELS.owner}=${owner}`] } });
  for (const volume of listed.Volumes ?? []) {
    try {
      await docker.getVolume(volume.Name).remove();
    } catch (error) {
      if (statusOf(error) !== 404) throw runtimeError(`cannot remove volume ${volume.Name}`, error);
    }
  }
}
