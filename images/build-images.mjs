// Builds the local base images (and, with --components, the example components' images) against
// the Docker Engine API found like `--executor auto` finds it (DOCKER_HOST, the Docker socket,
// Podman's sockets), or, failing that, a Podman service started for the occasion.
//   node --import tsx images/build-images.mjs [--components]
// (tsx: the recipes are TypeScript, in packages/engine/test/support/images.ts)
import Docker from 'dockerode';
import { detectDockerEndpoint, dockerOptionsFor } from '../packages/engine/src/executor/docker/docker-connection.js';
import { ensureComponentImages, ensureTestImages, TEST_IMAGES } from '../packages/engine/test/support/images.js';
import { podmanSkipReason, startPodmanService } from '../packages/engine/test/support/podman.js';

const endpoint = await detectDockerEndpoint(process.env);
let podman;
let dockerHost = endpoint?.dockerHost;
if (dockerHost === undefined) {
  const reason = podmanSkipReason();
  if (reason !== undefined) {
    console.error(`no Docker Engine API answers and Podman cannot be started: ${reason}`);
    process.exit(1);
  }
  podman = await startPodmanService();
  dockerHost = podman.dockerHost;
}
console.log(
  `building on ${dockerHost}${endpoint === undefined ? ' (a Podman service started for this)' : ` (${endpoint.source})`}`,
);
try {
  const docker = new Docker(dockerOptionsFor(dockerHost, process.env));
  await ensureTestImages(docker);
  for (const image of Object.values(TEST_IMAGES)) console.log(`ready: ${image}`);
  if (process.argv.includes('--components')) {
    for (const tag of await ensureComponentImages(docker)) console.log(`ready: ${tag}`);
  }
} finally {
  await podman?.stop();
}
