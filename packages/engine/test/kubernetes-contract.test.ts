import { after, before, describe } from 'node:test';
import { defineContractSuite } from './contract/contract-suite.js';
import { createHarness } from './support/harness.js';
import { TEST_IMAGES } from './support/images.js';
import { testCluster, testNamespace, type TestCluster, type TestNamespace } from './support/k8s.js';

// The shared contract suite, unchanged, on pods: engine → real kube-apiserver → the podman-backed
// stand-in kubelet (a stand-in: no kubelet or scheduler can run here) → podman container →
// callbacks → engine. Run workspaces are claims the stand-in maps to host folders
// `<workspaceRoot>/<run id>`, which the suite reads. Leftovers are the run's pods.
const found = await testCluster();
const skip = 'skip' in found ? found.skip : false;
const cluster = found as TestCluster;

describe('kubernetes executor (real API server, stand-in kubelet)', { skip }, () => {
  let ns: TestNamespace | undefined;

  before(async () => {
    if (skip) return;
    ns = await testNamespace(cluster, 'contract');
  });

  after(async () => {
    await ns?.close();
  });

  defineContractSuite(
    'kubernetes',
    () => createHarness({ executor: 'kubernetes', config: ns!.config(), leftovers: (runId) => ns!.pods(runId) }),
    TEST_IMAGES.base,
  );
});
