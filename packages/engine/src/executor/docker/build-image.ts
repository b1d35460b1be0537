import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { ExecutorError } from '../../domain/errors.js';
import { LineSplitter } from '../shared/line-splitter.js';
import { runtimeError } from './docker-errors.js';

/** What `buildComponentImage` built. */
export interface BuiltImage {
  readonly tag: string;
  /** `sha256:…` */
  readonly imageId: string;
}

/** Options of `buildComponentImage`. */
export interface BuildImageOptions {
  /** labels to set on the image */
  readonly labels?: Readonly<Record<string, string>>;
}

/** One message of the build progress stream of the Docker Engine API. */
interface BuildEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

const STEP_LINE = /^(STEP \d+(?:\/\d+)?:|Step \d+\/\d+ :)/;

/**
 * Build the image of a component folder through the Docker Engine API (`POST /build`, which
 * Podman's service supports too) and tag it `tag` (`name:version`). The folder is the build
 * context (`.dockerignore` honoured) and must hold a `Dockerfile`. Each line of the builder's
 * output goes to `onLog` as it arrives. A failed build is an ExecutorError naming the step that
 * failed and the builder's reason.
 */
export async function buildComponentImage(
  docker: Docker,
  dir: string,
  tag: string,
  onLog: (line: string) => void,
  options: BuildImageOptions = {},
): Promise<BuiltImage> {
  const dockerfile = join(dir, 'Dockerfile');
  if (
    !(await stat(dockerfile).then(
      (info) => info.isFile(),
      () => false,
    ))
  ) {
    throw new ExecutorError(`cannot build ${tag}: ${dockerfile} does not exist (a component image needs a Dockerfile)`);
  }
  const src = await readdir(dir);
  const splitter = new LineSplitter();
  let lastStep: string | undefined;
  let failure: string | undefined;
  let imageId: string | undefined;
  const deliver = (lines: string[]): void => {
    for (const line of lines) {
      if (STEP_LINE.test(line)) lastStep = line;
      onLog(line);
    }
  };

  try {
    const stream = await docker.buildImage(
      { context: dir, src },
      {
        t: tag,
        rm: true,
        forcerm: true,
        ...(options.labels === undefined ? {} : { labels: { ...options.labels } }),
      },
    );
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (error: Error | null) => (error === null ? resolve() : reject(error)),
        (event: BuildEvent) => {
          if (event.stream !== undefined) deliver(splitter.push(Buffer.from(event.stream)));
          if (event.aux?.ID !== undefined) imageId = event.aux.ID;
          const message = event.errorDetail?.message ?? event.error;
          if (message !== undefined) failure ??= message;
        },
      );
    });
  } catch (error) {
    deliver(splitter.end());
    throw runtimeError(`cannot build ${tag} from ${dir}${lastStep === undefined ? '' : ` (at ${lastStep})`}`, error);
  }
  deliver(splitter.end());
  if (failure !== undefined) {
    const at = lastStep === undefined ? '' : ` at ${lastStep}`;
    throw new ExecutorError(`building ${tag} from ${dir} failed${at}: ${failure.trim()}`);
  }
  try {
    const info = await docker.getImage(tag).inspect();
    return { tag, imageId: info.Id };
  } catch (error) {
    if (imageId !== undefined) return { tag, imageId };
    throw runtimeError(`the build of ${tag} reported no error but the image is missing`, error);
  }
}
