import { after, before, describe } from 'node:test';
import Docker from 'dockerode';
import { newId } from '../src/domain/ids.js';
import { defineContractSuite } from './contract/contract-suite.js';
import { createHarness } from './support/harness.js';
import { ensureTestImages, TEST_IMAGES } from './support/images.js';
import { leftoversOfRun, podmanSkipReason, removeEngineLeftovers, startPodmanService } from './support/podman.js';
import type { PodmanService } from './support/podman.js';

// The shared contract suite, on containers: the engine is configured with `executor: docker`
// against a Podman service of its own, and leftovers are the containers and volumes labelled
// with the run's id.
describe('docker executor', { skip: podmanSkipReason() }, () => {
  const engineId = `test-contract-${newId().toLowerCase()}`;
  let podman: PodmanService | undefined;
  let docker: Docker | undefined;

  before(async () => {
    podman = await startPodmanService();
    docker = new Docker({ socketPath: podman.socketPath });
    await ensureTestImages(docker, ['base']);
  });

  after(async () => {
    if (docker !== undefined) await removeEngineLeftovers(docker, engineId);
    await podman?.stop();
  });

  defineContractSuite(
    'docker',
    () =>
      createHarness({
        executor: 'docker',
        config: { executor: 'docker', dockerHost: podman!.dockerHost, engineId },
        leftovers: (runId) => leftoversOfRun(docker!, runId),
      }),
    TEST_IMAGES.base,
  );
});
