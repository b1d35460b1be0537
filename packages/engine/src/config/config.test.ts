import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from './config.js';

test('flags win over env, env over defaults; the result is frozen', () => {
  const config = loadConfig({
    env: { PILOTAGE_EXECUTOR: 'docker', PILOTAGE_KILL_GRACE: '2s', PILOTAGE_SECRET_TOKEN: 's3cret' },
    home: '/home/u',
    flags: { executor: 'local', maxParallel: 3 },
  });
  assert.equal(config.executor, 'local');
  assert.equal(config.killGraceMs, 2000);
  assert.equal(config.maxParallel, 3);
  assert.equal(config.db, '/home/u/.local/share/pilotage/pilotage.db');
  assert.deepEqual(config.secrets, { TOKEN: 's3cret' });
  assert.ok(Object.isFrozen(config));
});

test('bad values name the key and its env var', () => {
  assert.throws(
    () => loadConfig({ env: { PILOTAGE_MAX_PARALLEL: 'lots' }, home: '/h' }),
    /maxParallel \(PILOTAGE_MAX_PARALLEL\)/,
  );
  assert.throws(() => loadConfig({ env: { PILOTAGE_EXECUTOR: 'vm' }, home: '/h' }), /executor/);
  assert.throws(
    () => loadConfig({ env: {}, home: '/h', flags: { nope: 1 } as never }),
    /unknown configuration key "nope"/,
  );
});

test('docker executor settings: env vars, defaults, a stable engine id per store', () => {
  const config = loadConfig({
    env: {
      DOCKER_HOST: 'tcp://10.0.0.5:2376',
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: '/certs',
      XDG_RUNTIME_DIR: '/run/user/1000',
      PILOTAGE_DOCKER_NETWORK: 'podman',
      PILOTAGE_DOCKER_PULL_POLICY: 'never',
      PILOTAGE_DOCKER_DEFAULT_IMAGE: 'busybox:1.36',
      PILOTAGE_ENGINE_ID: 'ci-runner-1',
    },
    home: '/h',
  });
  assert.equal(config.dockerHost, 'tcp://10.0.0.5:2376');
  assert.equal(config.dockerTlsVerify, true);
  assert.equal(config.dockerCertPath, '/certs');
  assert.equal(config.runtimeDir, '/run/user/1000');
  assert.equal(config.dockerNetwork, 'podman');
  assert.equal(config.dockerPullPolicy, 'never');
  assert.equal(config.dockerDefaultImage, 'busybox:1.36');
  assert.equal(config.engineId, 'ci-runner-1');

  const defaults = loadConfig({ env: {}, home: '/h' });
  assert.equal(defaults.dockerNetwork, 'host');
  assert.equal(defaults.dockerPullPolicy, 'if-missing');
  assert.equal(defaults.dockerTlsVerify, false);
  assert.match(defaults.engineId, /^pilotage-[0-9a-f]{12}$/);
  assert.equal(loadConfig({ env: {}, home: '/h' }).engineId, defaults.engineId, 'the same store, the same id');
  assert.notEqual(loadConfig({ env: {}, home: '/other' }).engineId, defaults.engineId, 'another store, another id');
  const memory = (): string => loadConfig({ env: {}, home: '/h', flags: { db: ':memory:' } }).engineId;
  assert.notEqual(memory(), memory(), 'an in-memory store gets a new id each time');
});

test('bad docker settings name the key and its env var', () => {
  assert.throws(
    () => loadConfig({ env: { PILOTAGE_DOCKER_PULL_POLICY: 'sometimes' }, home: '/h' }),
    /dockerPullPolicy \(PILOTAGE_DOCKER_PULL_POLICY\) must be always, if-missing or never/,
  );
  assert.throws(
    () => loadConfig({ env: { PILOTAGE_ENGINE_ID: 'has spaces' }, home: '/h' }),
    /engineId \(PILOTAGE_ENGINE_ID\)/,
  );
});

test('passEnv: a comma list in PILOTAGE_PASS_ENV, a list from flags or the file; bad entries name the key', () => {
  assert.deepEqual(loadConfig({ env: {}, home: '/h' }).passEnv, []);
  assert.deepEqual(loadConfig({ env: { PILOTAGE_PASS_ENV: 'SSH_AUTH_SOCK, AWS_*' }, home: '/h' }).passEnv, [
    'SSH_AUTH_SOCK',
    'AWS_*',
  ]);
  assert.deepEqual(loadConfig({ env: {}, home: '/h', file: { passEnv: ['HTTPS_PROXY', '*_PROXY'] } }).passEnv, [
    'HTTPS_PROXY',
    '*_PROXY',
  ]);
  assert.throws(
    () => loadConfig({ env: {}, home: '/h', flags: { passEnv: ['AWS-KEY'] } }),
    /passEnv \(PILOTAGE_PASS_ENV\) must list variable names or globs.*"AWS-KEY"/,
  );
});

test('OpenTelemetry: PILOTAGE_OTEL_ENDPOINT over the standard variable; OTEL_SDK_DISABLED turns it off', () => {
  const load = (env: NodeJS.ProcessEnv) => loadConfig({ env, home: '/h' });
  assert.equal(load({}).otelEndpoint, undefined);
  assert.equal(load({}).otelServiceName, 'pilotage');
  assert.equal(load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).otelEndpoint, 'http://collector:4318');
  assert.equal(
    load({ PILOTAGE_OTEL_ENDPOINT: 'https://ours:4318', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://theirs:4318' })
      .otelEndpoint,
    'https://ours:4318',
  );
  assert.equal(
    load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'TRUE' }).otelEndpoint,
    undefined,
  );
  assert.equal(load({ OTEL_SERVICE_NAME: 'ci-engine' }).otelServiceName, 'ci-engine');
  assert.throws(() => load({ PILOTAGE_OTEL_ENDPOINT: 'collector:4318' }), /otelEndpoint \(PILOTAGE_OTEL_ENDPOINT/);
});

test('kubernetes settings: env vars and defaults; bad values name the key and its env var', () => {
  const load = (env: NodeJS.ProcessEnv) => loadConfig({ env, home: '/home/u' });
  const defaults = load({});
  assert.equal(defaults.kubeconfig, '/home/u/.kube/config');
  assert.equal(defaults.kubernetesContext, undefined);
  assert.equal(defaults.kubernetesServiceHost, undefined);
  assert.equal(defaults.kubernetesNamespace, undefined);
  assert.equal(defaults.kubernetesAccessMode, 'ReadWriteOnce');
  assert.equal(defaults.kubernetesWorkspaceSize, '1Gi');
  assert.equal(defaults.kubernetesQps, 20);
  assert.equal(defaults.kubernetesBurst, 40);
  assert.equal(defaults.kubernetesPullGraceMs, 60_000);
  const set = load({
    KUBECONFIG: '/etc/kube/a:/etc/kube/b',
    KUBERNETES_SERVICE_HOST: '10.0.0.1',
    PILOTAGE_KUBERNETES_CONTEXT: 'ci',
    PILOTAGE_KUBERNETES_NAMESPACE: 'builds',
    PILOTAGE_KUBERNETES_STORAGE_CLASS: 'fast',
    PILOTAGE_KUBERNETES_ACCESS_MODE: 'ReadWriteMany',
    PILOTAGE_KUBERNETES_WORKSPACE_SIZE: '20Gi',
    PILOTAGE_KUBERNETES_SERVICE_ACCOUNT: 'runner',
    PILOTAGE_DOCKER_DEFAULT_IMAGE: 'busybox',
    PILOTAGE_KUBERNETES_QPS: '50',
    PILOTAGE_KUBERNETES_BURST: '100',
    PILOTAGE_KUBERNETES_PULL_GRACE: '2m',
  });
  assert.deepEqual(
    [set.kubeconfig, set.kubernetesServiceHost, set.kubernetesContext, set.kubernetesNamespace],
    ['/etc/kube/a:/etc/kube/b', '10.0.0.1', 'ci', 'builds'],
  );
  assert.deepEqual(
    [set.kubernetesStorageClass, set.kubernetesAccessMode, set.kubernetesWorkspaceSize, set.kubernetesServiceAccount],
    ['fast', 'ReadWriteMany', '20Gi', 'runner'],
  );
  assert.equal(set.kubernetesDefaultImage, 'busybox', "the docker executor's default image, when unset");
  assert.deepEqual([set.kubernetesQps, set.kubernetesBurst, set.kubernetesPullGraceMs], [50, 100, 120_000]);
  assert.throws(
    () => load({ PILOTAGE_KUBERNETES_ACCESS_MODE: 'RWX' }),
    /kubernetesAccessMode \(PILOTAGE_KUBERNETES_ACCESS_MODE\) must be ReadWriteOnce or ReadWriteMany/,
  );
  assert.throws(
    () => load({ PILOTAGE_KUBERNETES_NAMESPACE: 'Builds' }),
    /kubernetesNamespace \(PILOTAGE_KUBERNETES_NAMESPACE\) must be a Kubernetes name/,
  );
  assert.throws(() => load({ PILOTAGE_KUBERNETES_WORKSPACE_SIZE: '1GB' }), /kubernetesWorkspaceSize .* quantity/);
  assert.throws(() => load({ PILOTAGE_KUBERNETES_QPS: '0' }), /kubernetesQps \(PILOTAGE_KUBERNETES_QPS\)/);
  assert.equal(load({}).kubernetesOwner, undefined, 'the engine id, by default');
  assert.equal(load({ PILOTAGE_KUBERNETES_OWNER: 'pilotage' }).kubernetesOwner, 'pilotage');
  assert.throws(
    () => load({ PILOTAGE_KUBERNETES_OWNER: 'a/b' }),
    /kubernetesOwner \(PILOTAGE_KUBERNETES_OWNER\) must be 1-63 letters/,
  );
});

test('CDEvents delivery: a 24 h retry window and a 60 s backoff cap by default, durations from env', () => {
  const defaults = loadConfig({ env: {}, home: '/h' });
  assert.equal(defaults.eventsRetryWindowMs, 86_400_000);
  assert.equal(defaults.eventsMaxBackoffMs, 60_000);
  const set = loadConfig({
    env: { PILOTAGE_EVENTS_RETRY_WINDOW: '72h', PILOTAGE_EVENTS_MAX_BACKOFF: '5m' },
    home: '/h',
  });
  assert.equal(set.eventsRetryWindowMs, 72 * 3_600_000);
  assert.equal(set.eventsMaxBackoffMs, 300_000);
  assert.throws(
    () => loadConfig({ env: { PILOTAGE_EVENTS_RETRY_WINDOW: 'a day' }, home: '/h' }),
    /PILOTAGE_EVENTS_RETRY_WINDOW/,
  );
});
