import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/config.js';
import { ConfigError, ExecutorError } from '../../domain/errors.js';
import { configuredExecutors } from '../configured-executors.js';
import type { Executor } from '../executor.js';
import { createOnDemandKubernetesExecutor, kubernetesOptionsOf } from './configured-kubernetes.js';

// How the configuration picks the Kubernetes executor. Nothing here reaches a cluster: the
// kubeconfig points at a closed port, and the executor contacts nothing until it is used.
const DEAD_DOCKER = 'unix:///nonexistent/pilotage-test/docker.sock';
let dir: string;
let kubeconfig: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pilotage-kubeconfig-'));
  kubeconfig = join(dir, 'config');
  await writeFile(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [ { name: c, cluster: { server: "https://127.0.0.1:1" } } ]
users: [ { name: u, user: { token: t } } ]
contexts:
  - { name: dev, context: { cluster: c, user: u, namespace: team-a } }
  - { name: pilotage, context: { cluster: c, user: u, namespace: ci } }
current-context: dev
`,
  );
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const config = (flags: Record<string, string>) =>
  loadConfig({ env: {}, home: dir, flags: { db: ':memory:', dockerHost: DEAD_DOCKER, kubeconfig, ...flags } });
const closeAll = (executors: readonly Executor[]) => Promise.all(executors.map((e) => e.close()));
const ADVERTISED = 'http://pilotage.ci.svc:8080';

test('kubernetes: the default, in the namespace of the kubeconfig context, pods calling back at the advertised URL', async () => {
  const { executors, defaultName } = await configuredExecutors(
    config({ executor: 'kubernetes', advertiseUrl: ADVERTISED }),
  );
  assert.equal(defaultName, 'kubernetes');
  const kubernetes = executors.find((e) => e.name === 'kubernetes') as Executor & { namespace: string };
  assert.equal(kubernetes.namespace, 'team-a');
  assert.equal(kubernetes.callbackBaseUrl('http://127.0.0.1:4000', ADVERTISED), ADVERTISED);
  await closeAll(executors);
});

test('kubernetes: without an advertised URL, a configuration error saying what to set', async () => {
  await assert.rejects(
    configuredExecutors(config({ executor: 'kubernetes' })),
    (error: unknown) => error instanceof ConfigError && /needs PILOTAGE_ADVERTISE_URL/.test(error.message),
  );
});

test('kubernetes: no kubeconfig, or an unknown context, is a configuration error naming it', async () => {
  await assert.rejects(
    configuredExecutors(config({ executor: 'kubernetes', advertiseUrl: ADVERTISED, kubeconfig: join(dir, 'nope') })),
    (error: unknown) => error instanceof ConfigError && error.message.includes(`looked for ${join(dir, 'nope')}`),
  );
  await assert.rejects(
    configuredExecutors(config({ executor: 'kubernetes', advertiseUrl: ADVERTISED, kubernetesContext: 'prod' })),
    (error: unknown) =>
      error instanceof ConfigError && /context "prod" not found \(have: dev, pilotage\)/.test(error.message),
  );
});

test('auto: kubernetes when a context is configured for Pilotage (its namespace), and it says so', async () => {
  const said: string[] = [];
  const { executors, defaultName } = await configuredExecutors(
    config({ executor: 'auto', advertiseUrl: ADVERTISED, kubernetesContext: 'pilotage' }),
    { info: (m) => said.push(m) },
  );
  assert.equal(defaultName, 'kubernetes');
  assert.deepEqual(said, ['executor auto: using kubernetes (context pilotage, namespace ci)']);
  await closeAll(executors);
});

test('auto: kubernetes in a cluster (KUBERNETES_SERVICE_HOST)', async () => {
  // in-cluster config reads the ServiceAccount files, absent here: the error shows it was chosen
  await assert.rejects(
    configuredExecutors(config({ executor: 'auto', advertiseUrl: ADVERTISED, kubernetesServiceHost: '10.0.0.1' })),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.message.startsWith('cannot use the credentials of the in-cluster ServiceAccount') &&
      error.message.includes('/var/run/secrets/kubernetes.io/serviceaccount/'),
  );
});

test('auto: a kubeconfig alone does not choose kubernetes; it stays on demand and contacts nothing', async () => {
  const { executors, defaultName } = await configuredExecutors(config({ executor: 'auto', advertiseUrl: ADVERTISED }));
  assert.equal(defaultName, 'local');
  const kubernetes = executors.find((e) => e.name === 'kubernetes')!;
  assert.deepEqual(await kubernetes.list(), [], 'not set up for Kubernetes: recovery does not go looking');
  assert.deepEqual(await kubernetes.listRuns(), []);
  await closeAll(executors);
});

test('local: kubernetes on demand says why it cannot run (no kubeconfig) when a workflow names it', async () => {
  const { executors } = await configuredExecutors(
    config({ executor: 'local', advertiseUrl: ADVERTISED, kubeconfig: join(dir, 'nope') }),
  );
  const kubernetes = executors.find((e) => e.name === 'kubernetes')!;
  await assert.rejects(
    kubernetes.prepareRun({ runId: 'R', workflow: 'w', actions: 2 }),
    (error: unknown) =>
      error instanceof ExecutorError &&
      error.retryable === false &&
      error.message.startsWith('the kubernetes executor is not available: the kubernetes executor found no kubeconfig'),
  );
  await closeAll(executors);
});

test("options: pods labelled with PILOTAGE_KUBERNETES_OWNER (else the engine id); the engine's environment filtered by passEnv; pods outlive the engine", async () => {
  const flags = { executor: 'kubernetes', advertiseUrl: ADVERTISED, engineId: 'replica-1' };
  const owned = kubernetesOptionsOf(config({ ...flags, kubernetesOwner: 'pilotage' }), {}, () => undefined);
  assert.equal(owned.engineId, 'pilotage');
  const plain = kubernetesOptionsOf(config({ ...flags, passEnv: 'CI,AWS_*' }), {}, () => undefined);
  assert.equal(plain.engineId, 'replica-1');
  assert.deepEqual(plain.passEnv, ['CI', 'AWS_*']);
  assert.equal(plain.engineEnv, process.env, 'filtered per pod by componentEnv (pod.test.ts)');
  const onDemand = createOnDemandKubernetesExecutor(plain, false);
  assert.equal(onDemand.survivesEngine, true);
  await onDemand.close();
});

test('kubernetes: the cache claim and the helper image; copyPaths only with a cache claim (else cache.paths is not cached)', async () => {
  const withClaim = kubernetesOptionsOf(
    config({ kubernetesCacheClaim: 'pilotage-cache', kubernetesHelperImage: 'busybox:1.36', cacheDir: '/var/cache/p' }),
    {},
    () => undefined,
  );
  assert.deepEqual(withClaim.cacheClaim, { claim: 'pilotage-cache', hostDir: '/var/cache/p' });
  assert.equal(withClaim.helperImage, 'busybox:1.36');
  assert.equal(typeof createOnDemandKubernetesExecutor(withClaim, false).copyPaths, 'function');
  const without = kubernetesOptionsOf(config({}), {}, () => undefined);
  assert.equal(without.cacheClaim, undefined);
  assert.equal(createOnDemandKubernetesExecutor(without, false).copyPaths, undefined);
  assert.throws(
    () => config({ kubernetesCacheClaim: 'Not A Name' }),
    /kubernetesCacheClaim|PILOTAGE_KUBERNETES_CACHE_CLAIM/,
  );
});
