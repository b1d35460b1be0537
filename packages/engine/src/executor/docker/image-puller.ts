import type Docker from 'dockerode';
import type { AuthConfig, ImageInspectInfo } from 'dockerode';
import { ExecutorError } from '../../domain/errors.js';
import type { PullPolicy } from '../../plan/types.js';
import { runtimeError, statusOf } from './docker-errors.js';

/** Registry credentials for an image (from the secret store), or undefined for none. */
export type RegistryAuthProvider = (image: string) => AuthConfig | undefined | Promise<AuthConfig | undefined>;

/** What is recorded about the image a task ran. */
export interface ImageFacts {
  readonly image: string;
  /** `sha256:…` image id */
  readonly imageId: string;
  /** the registry digest (`sha256:…`) when the image has one, else the image id */
  readonly imageDigest: string;
}

/** Makes images present according to a pull policy; see `createImagePuller`. */
export interface ImagePuller {
  ensure(image: string, policy: PullPolicy): Promise<ImageFacts>;
}

/**
 * Pull policies over the Docker Engine API:
 * - `always`: pull, then use what is local (the pull must succeed);
 * - `if-missing`: pull only when the image is not present;
 * - `never`: use the local image; missing is an ExecutorError saying so.
 * Concurrent pulls of one image share one request. Every failure is an ExecutorError naming
 * the image (the task run becomes `errored`).
 */
export function createImagePuller(docker: Docker, registryAuth?: RegistryAuthProvider): ImagePuller {
  const pulling = new Map<string, Promise<void>>();

  async function inspect(image: string): Promise<ImageInspectInfo | undefined> {
    try {
      return await docker.getImage(image).inspect();
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw runtimeError(`cannot inspect image ${image}`, error);
    }
  }

  function pullOnce(image: string): Promise<void> {
    let pull = pulling.get(image);
    if (pull === undefined) {
      pull = pullImage(docker, image, registryAuth).finally(() => pulling.delete(image));
      pulling.set(image, pull);
    }
    return pull;
  }

  return {
    async ensure(image, policy) {
      if (policy === 'always') await pullOnce(image);
      let info = await inspect(image);
      if (info === undefined) {
        if (policy === 'never') {
          throw new ExecutorError(`image ${image} not found locally and pullPolicy is never`);
        }
        if (policy === 'if-missing') await pullOnce(image);
        info = await inspect(image);
        if (info === undefined) throw new ExecutorError(`image ${image} is still missing after pulling it`);
      }
      return imageFacts(image, info);
    },
  };
}

async function pullImage(docker: Docker, image: string, registryAuth?: RegistryAuthProvider): Promise<void> {
  const authconfig = await registryAuth?.(image);
  let events: Array<{ error?: string; errorDetail?: { message?: string } }>;
  try {
    const stream = await docker.pull(image, authconfig === undefined ? {} : { authconfig });
    events = await new Promise((resolve, reject) => {
      docker.modem.followProgress(stream, (error: Error | null, output: typeof events) =>
        error === null ? resolve(output) : reject(error),
      );
    });
  } catch (error) {
    throw runtimeError(`cannot pull image ${image}`, error);
  }
  // The API answers 200 and reports a failed pull inside the progress stream.
  const failed = events.find((event) => event.error !== undefined || event.errorDetail?.message !== undefined);
  if (failed !== undefined) {
    throw new ExecutorError(`cannot pull image ${image}: ${failed.errorDetail?.message ?? failed.error}`);
  }
}

/** The digest of `image`'s repository when known (RepoDigests), else the image id. */
export function imageFacts(image: string, info: ImageInspectInfo): ImageFacts {
  const repository = image.replace(/[:@][^/]*$/, '');
  const digests = info.RepoDigests ?? [];
  const chosen = digests.find((entry) => entry.startsWith(`${repository}@`)) ?? digests[0];
  const digest = chosen?.slice(chosen.indexOf('@') + 1);
  return { image, imageId: info.Id, imageDigest: digest !== undefined && digest !== '' ? digest : info.Id };
}
