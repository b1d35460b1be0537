import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { createKubernetesExecutor } from '../src/executor/kubernetes/kubernetes-executor.js';
import { createHarness } from './support/harness.js';
import { TEST_IMAGES } from './support/images.js';
import { testCluster, testNamespace, type TestCluster, type TestNamespace } from './support/k8s.js';

// deploy/kubernetes/ against the real kube-apiserver: every manifest through a server-side dry
// run, with nothing dropped (an API server of 1.20 drops unknown fields silently), and the Role
// proven to be enough for the executor by running a workflow with the ServiceAccount's own token.
const found = await testCluster();
const skip = 'skip' in found ? found.skip : false;
const cluster = found as TestCluster;
const run = promisify(execFile);
const DEPLOY = fileURLToPath(new URL('../../../deploy/kubernetes', import.meta.url));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The leaves of `expected` missing from (or different in) `actual`, as paths. */
function missingLeaves(expected: Json, actual: Json | undefined, path = ''): string[] {
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return [path || '/'];
    return Object.entries(expected).flatMap(([key, value]) =>
      missingLeaves(value, (actual as Record<string, Json>)[key], `${path}/${key}`),
    );
  }
  return String(expected) === String(actual)
    ? []
    : [`${path} (${JSON.stringify(expected)} ≠ ${JSON.stringify(actual)})`];
}

describe('deploy/kubernetes on the real API server', { skip, concurrency: false }, () => {
  let ns: TestNamespace;
  let objects: Record<string, Json>[];

  before(async () => {
    if (skip) return;
    ns = await testNamespace(cluster, 'deploy');
    const { stdout } = await run('kubectl', ['kustomize', DEPLOY], { env: { ...process.env, ...cluster.env } });
    objects = parseAllDocuments(stdout).map((doc) => doc.toJSON() as Record<string, Json>);
  });
  after(async () => {
    await ns?.close();
  });

  test('the manifests pass a server-side dry run, and the server keeps every field they set', async () => {
    const kinds = objects.map((o) => o['kind']).sort();
    assert.deepEqual(kinds, [
      'ConfigMap',
      'Deployment',
      'Namespace',
      'NetworkPolicy',
      'NetworkPolicy',
      'PersistentVolumeClaim',
      'Role',
      'RoleBinding',
      'Secret',
      'Service',
      'ServiceAccount',
      'ServiceAccount',
    ]);
    const deployment = objects.find((o) => o['kind'] === 'Deployment') as { spec: { replicas: number } };
    assert.equal(deployment.spec.replicas, 2);
    // dry-run objects are not stored: the namespaced ones go to this test's (real) namespace
    for (const object of objects) {
      if (object['kind'] !== 'Namespace') (object['metadata'] as Record<string, Json>)['namespace'] = ns.name;
    }
    // kubectl sends the objects as they are (the typed client would drop fields it renames)
    const applied = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        'kubectl',
        ['apply', '--dry-run=server', '-o', 'json', '-f', '-'],
        { env: { ...process.env, ...cluster.env }, maxBuffer: 1 << 24 },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
      );
      child.stdin!.end(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
    });
    const accepted = (JSON.parse(applied) as { items: Json[] }).items;
    assert.equal(accepted.length, objects.length);
    objects.forEach((object, i) => {
      // a Secret's stringData is stored as data
      const expected = { ...object };
      if (expected['stringData'] !== undefined) {
        const stringData = expected['stringData'] as Record<string, string>;
        delete expected['stringData'];
        expected['data'] = Object.fromEntries(
          Object.entries(stringData).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
        );
      }
      const name = `${String(object['kind'])} ${String((object['metadata'] as Record<string, Json>)['name'])}`;
      assert.deepEqual(missingLeaves(expected as Json, accepted[i]), [], name);
    });
  });

  test("the Role is all the executor needs, and no more: a workflow run in-cluster, with the ServiceAccount's own token (pods run by the stand-in kubelet)", async () => {
    const client = k8s.KubernetesObjectApi.makeApiClient(cluster.kc);
    for (const file of ['serviceaccount.yaml', 'rbac.yaml']) {
      for (const doc of parseAllDocuments(await readFile(join(DEPLOY, file), 'utf8'))) {
        const object = doc.toJSON() as k8s.KubernetesObject;
        object.metadata = { ...object.metadata, namespace: ns.name };
        await client.create(object);
      }
    }
    const token = await cluster.core.createNamespacedServiceAccountToken({
      name: 'pilotage',
      namespace: ns.name,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    // the engine's in-cluster config, as Kubernetes mounts it in the engine's pod: the token, the
    // cluster's CA and the namespace under var/run/secrets/kubernetes.io/serviceaccount/, and the
    // API server's address in KUBERNETES_SERVICE_HOST and _PORT
    const admin = cluster.kc.getCurrentCluster()!;
    const root = await mkdtemp(join(tmpdir(), 'pilotage-in-cluster-'));
    const accountDir = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    await mkdir(accountDir, { recursive: true });
    await writeFile(join(accountDir, 'token'), token.status!.token);
    await copyFile(admin.caFile!, join(accountDir, 'ca.crt'));
    await writeFile(join(accountDir, 'namespace'), ns.name);
    const server = new URL(admin.server);
    const saved = { host: process.env['KUBERNETES_SERVICE_HOST'], port: process.env['KUBERNETES_SERVICE_PORT'] };
    process.env['KUBERNETES_SERVICE_HOST'] = server.hostname;
    process.env['KUBERNETES_SERVICE_PORT'] = server.port;
    let executor: Awaited<ReturnType<typeof createKubernetesExecutor>>;
    try {
      executor = await createKubernetesExecutor({
        access: { inCluster: true, inClusterRoot: root },
        engineId: ns.engineId,
        killGraceMs: 1000,
        defaultImage: TEST_IMAGES.base,
        serviceAccountName: 'pilotage-components',
        storage: { storageClass: ns.storageClass },
        callbackUrl: ns.callbackUrl,
      });
    } finally {
      for (const [key, value] of [
        ['KUBERNETES_SERVICE_HOST', saved.host],
        ['KUBERNETES_SERVICE_PORT', saved.port],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    const kc = executor.kc;
    assert.equal(executor.namespace, ns.name, "the context's namespace");
    const h = await createHarness({
      executor: 'kubernetes',
      keepWorkspace: false,
      config: ns.config({ executor: 'local' }),
      extraExecutors: [executor],
    });
    try {
      const component = await h.write(
        'seeded.component.yaml',
        `apiVersion: pilotage.dev/v1
kind: Component
name: seeded
version: 1.0.0
image: ${TEST_IMAGES.base}
command: ["sh", "-c", "cat /seed/greeting > \\"$CO_WORKSPACE/greeting\\""]
volumes: [ { name: seed, mountPath: /seed, readOnly: true, initialData: { greeting: hello } } ]
`,
      );
      const { run: done, byAction } = await h.run(`name: least-rbac
stages:
  - name: one
    actions:
      - { name: seed, component: ${component} }
      - { name: slow, image: ${TEST_IMAGES.base}, run: 'sleep 300', timeout: 2s }
  - name: two
    actions:
      - { name: read, image: ${TEST_IMAGES.base}, run: 'echo "[COUT] greeting=$(cat "$CO_WORKSPACE/greeting")"' }
`);
      assert.equal(byAction.get('seed')!.state, 'succeeded', byAction.get('seed')!.reason ?? '');
      assert.equal(byAction.get('slow')!.reason, 'timeout');
      assert.equal(done.state, 'failed');
      // stage two did not run (stage one failed): the pods went; the workspace claim is kept (labelled,
      // with the token's patch) for a rerun from a copy, until the retention removes it (delete)
      assert.deepEqual(await ns.pods(done.id), []);
      assert.deepEqual(await executor.list(), []);
      const kept = await cluster.core.listNamespacedPersistentVolumeClaim({
        namespace: ns.name,
        labelSelector: 'pilotage.dev/kept=true',
      });
      assert.deepEqual(
        kept.items.map((c) => c.metadata?.name),
        [`pilotage-ws-${done.id.toLowerCase()}`],
      );
      await executor.releaseRun(done.id, { keep: false });
      assert.deepEqual(await ns.claims(), []);

      const second = await h.run(`name: least-rbac-2
stages:
  - name: one
    actions:
      - { name: seed, component: ${component} }
  - name: two
    actions:
      - { name: read, image: ${TEST_IMAGES.base}, run: 'echo "[COUT] greeting=$(cat "$CO_WORKSPACE/greeting")"' }
`);
      assert.equal(second.run.state, 'succeeded', second.run.reason ?? '');
      assert.deepEqual(second.byAction.get('read')!.output, { greeting: 'hello' });

      // and no more than that: no Secret can be read, nothing elsewhere can be touched
      const core = kc.makeApiClient(k8s.CoreV1Api);
      await assert.rejects(
        core.listNamespacedSecret({ namespace: ns.name }),
        (e: unknown) => (e as { code?: number }).code === 403,
      );
      await assert.rejects(
        core.listNamespacedPod({ namespace: 'default' }),
        (e: unknown) => (e as { code?: number }).code === 403,
      );
    } finally {
      await h.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
