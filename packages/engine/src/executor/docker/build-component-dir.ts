import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type Docker from 'dockerode';
import { NotFoundError } from '../../domain/errors.js';
import { loadComponentFile } from '../../plan-files/load.js';
import { buildComponentImage } from './build-image.js';
import { LABELS } from './labels.js';

/** What `buildComponentDir` built. */
export interface BuiltComponent {
  /** `name@version` of the component */
  readonly component: string;
  readonly name: string;
  readonly version: string;
  /** the tag given to the image */
  readonly tag: string;
  /** `sha256:…` */
  readonly imageId: string;
  /** the component.yaml that was read */
  readonly file: string;
}

/**
 * Build a component folder's image through the Docker Engine API: its `component.yaml` is read
 * and checked, its `Dockerfile` built with the folder as context, and the image tagged `tag`
 * (default: the component's `image`, else `name:version`) and labelled
 * `dev.pilotage.component=name@version`. Build output goes to `onLog` line by line. Throws
 * NotFoundError when the folder has no component.yaml, PlanError when it is invalid, and
 * ExecutorError (naming the failed step) when the build fails. For `pilotage component build`
 * and for a server that registers what it built.
 */
export async function buildComponentDir(
  docker: Docker,
  dir: string,
  onLog: (line: string) => void,
  options: { readonly tag?: string } = {},
): Promise<BuiltComponent> {
  const folder = resolve(dir);
  const file = join(folder, 'component.yaml');
  if (!existsSync(file)) {
    throw new NotFoundError(
      `${folder} holds no component.yaml: a component folder needs one (pilotage component init)`,
    );
  }
  const component = loadComponentFile(file);
  const label = `${component.name}@${component.version}`;
  const tag = options.tag ?? component.image ?? `${component.name}:${component.version}`;
  const built = await buildComponentImage(docker, folder, tag, onLog, { labels: { [LABELS.component]: label } });
  return {
    component: label,
    name: component.name,
    version: component.version,
    tag: built.tag,
    imageId: built.imageId,
    file,
  };
}
