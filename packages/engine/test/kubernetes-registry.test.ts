import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { registryAuthSecretName } from '../src/executor/docker/registry-auth.js';
import { createHarness, eventually, type Harness } from './support/harness.js';
import { TEST_IMAGES } from './support/images.js';
import { testCluster, testNamespace, type TestCluster, type TestNamespace } from './support/k8s.js';
import { podmanGlobalFlags } from './support/podman.js';
import { registrySkipReason, startRegistry, type TestRegistry } from './support/registry.js';

// A component image in a private registry (Debian's docker-registry with htpasswd auth, plain
// HTTP on loopback), its credentials in Pilotage's secret store: the engine turns them into an
// image pull Secret of the run; the stand-in kubelet (a stand-in: no kubelet runs here) reads that
// Secret through the real API server and pulls with it, as a kubelet does.
const found = await testCluster();
const noRegistry = await registrySkipReason();
const skip = 'skip' in found ? found.skip : (noRegistry ?? false);
const cluster = found as TestCluster;
const run = promisify(execFile);

const podmanHas = (image: string) =>
  run('podman', [...podmanGlobalFlags(), 'image', 'exists', image]).then(
    () => true,
    () => false,
  );

describe(
  'private registry: pull Secret from the secret store (real API server, stand-in kubelet pulls)',
  { skip, concurrency: false },
  () => {
    let ns: TestNamespace;
    let registry: TestRegistry;
    let image: string;

    before(async () => {
      if (skip) return;
      await cluster.requireStandIn('pull');
      ns = await testNamespace(cluster, 'registry');
      registry = await startRegistry();
      image = await registry.push(`pilotage-test/private-${ns.engineId}:1`, TEST_IMAGES.base, {
        '/private-marker': 'pulled-from-the-private-registry',
      });
    });

    after(async () => {
      await ns?.close();
      await registry?.stop();
    });

    /** A harness whose secret store holds `credentials` for the registry; run `yaml` on it. */
    async function runWith(credentials: string, yaml: string) {
      const h: Harness = await createHarness({
        executor: 'kubernetes',
        keepWorkspace: false,
        config: ns.config(),
        runtime: { secrets: { [registryAuthSecretName(registry.host)]: credentials } },
      });
      try {
        const result = await h.run(yaml);
        const logs = await h.runtime.store.logs.read(result.byAction.get('task')!.id);
        return { ...result, logs: logs.map((l) => `${l.stream}: ${l.line}`) };
      } finally {
        await h.close();
      }
    }

    const workflow = () => `name: private-image
stages:
  - name: only
    actions:
      - name: task
        image: ${image}
        run: 'echo "[COUT] marker=$(cat /private-marker)"'
`;

    test('the registry refuses an anonymous pull, and the image is not in the local store', async () => {
      assert.equal(await podmanHas(image), false);
      await assert.rejects(
        run('podman', [...podmanGlobalFlags(), 'pull', '--tls-verify=false', image]),
        /unauthorized|authentication required/,
      );
    });

    test('the right credentials: the kubelet pulls with the run pull Secret, the component runs from the image', async () => {
      const { run: done, byAction } = await runWith(`${registry.username}:${registry.password}`, workflow());
      assert.equal(done.state, 'succeeded', done.reason ?? '');
      assert.deepEqual(byAction.get('task')!.output, { marker: 'pulled-from-the-private-registry' });
      assert.equal(await podmanHas(image), true, 'pulled into the node');
      // the pull Secret is the run's: deleted with the run, like its pods
      await eventually(
        async () => {
          const secrets = await cluster.core.listNamespacedSecret({
            namespace: ns.name,
            labelSelector: `pilotage.dev/run-id=${done.id}`,
          });
          return secrets.items.length === 0 && (await ns.pods(done.id)).length === 0 ? true : undefined;
        },
        20_000,
        'the run pull Secret and pod deleted',
      );
      // the stand-in kubelet removes the pod's container once it sees the pod gone: until then the
      // image is in use (a full suite once ran rmi in between)
      await eventually(
        () =>
          run('podman', [...podmanGlobalFlags(), 'rmi', image]).then(
            () => true,
            (error: unknown) => {
              if (!/in use by a container/.test(String(error))) throw error;
              return undefined;
            },
          ),
        20_000,
        'the image removed from the node once its container is gone',
      );
    });

    test('a wrong password: the task run is errored with the recorded pull error, the password in no reason', async () => {
      const wrong = 'not-the-password-93b1';
      const { run: done, byAction, logs } = await runWith(`${registry.username}:${wrong}`, workflow());
      assert.equal(done.state, 'errored');
      const task = byAction.get('task')!;
      assert.equal(task.state, 'errored');
      const reason = task.reason ?? '';
      assert.match(
        reason,
        new RegExp(`image ${image.replace(/[.]/g, '\\.')} could not be pulled \\((ErrImagePull|ImagePullBackOff)`),
      );
      assert.match(reason, /still failing after 3s/);
      assert.doesNotMatch(reason, new RegExp(wrong));
      assert.equal(await podmanHas(image), false, 'nothing was pulled');
      // the registry's own answer, as the kubelet reported it, is in the task run's log
      assert.ok(
        logs.some(
          (l) => l.startsWith('stderr: [pilotage]') && /ErrImagePull.*(unauthorized|authentication required)/.test(l),
        ),
        logs.join('\n'),
      );
      assert.ok(!logs.some((l) => l.includes(wrong)), 'the password is in no log line');
      await eventually(async () => ((await ns.pods(done.id)).length === 0 ? true : undefined), 20_000, 'pod deleted');
    });
  },
);
