import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecutorError } from '../../domain/errors.js';
import type { ResolvedComponent } from '../../plan/types.js';
import type { TaskSpec } from '../executor.js';
import { toContainerPlan } from './convert.js';
import type { ContainerPlan, ContainerSettings } from './convert.js';

const SETTINGS: ContainerSettings = {
  engineId: 'engine-1',
  network: 'host',
  image: 'localhost/img:1',
  killGraceMs: 2500,
  canLimitMemory: true,
  canLimitCpu: true,
};

function spec(component: Partial<ResolvedComponent> = {}, env: Record<string, string> = {}): TaskSpec {
  return {
    runId: 'RUN1',
    taskRunId: '01ABCDEF',
    attempt: 2,
    workflow: 'wf',
    stage: 'build',
    action: 'compile',
    component: { name: 'comp', version: '1.2.0', strict: true, env: {}, volumes: [], ...component },
    env,
    workspace: { hostDir: '/srv/pilotage/runs/RUN1', mountPath: '/workspace' },
    timeoutMs: 60_000,
  };
}

function envOf(plan: ContainerPlan): Record<string, string> {
  return Object.fromEntries(
    (plan.options.Env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

describe('toContainerPlan', () => {
  test("env: of the engine's environment only what passEnv allows (no base), never PILOTAGE_*; the spec's wins", () => {
    const envPolicy = {
      engineEnv: { PATH: '/host/bin', AWS_REGION: 'eu', SSH_AUTH_SOCK: '/s', PILOTAGE_TOKEN: 't', A: 'engine' },
      base: [],
      passEnv: ['SSH_AUTH_SOCK', 'PILOTAGE_*'],
    };
    const env = envOf(
      toContainerPlan({ ...spec({}, { A: 'spec' }), passEnv: ['AWS_*', 'A'] }, { ...SETTINGS, envPolicy }),
    );
    assert.deepEqual(env, { SSH_AUTH_SOCK: '/s', AWS_REGION: 'eu', A: 'spec', CO_WORKSPACE: '/workspace' });
  });

  test('the basics: name, image, labels, workspace bind, working dir, stop timeout, network', () => {
    const plan = toContainerPlan(spec(), SETTINGS);
    assert.equal(plan.name, 'pilotage-01abcdef');
    assert.equal(plan.options.name, 'pilotage-01abcdef');
    assert.equal(plan.options.Image, 'localhost/img:1');
    assert.deepEqual(plan.options.Labels, {
      'dev.pilotage.managed': 'true',
      'dev.pilotage.engine-id': 'engine-1',
      'dev.pilotage.run-id': 'RUN1',
      'dev.pilotage.task-run-id': '01ABCDEF',
      'dev.pilotage.workflow': 'wf',
      'dev.pilotage.stage': 'build',
      'dev.pilotage.action': 'compile',
      'dev.pilotage.attempt': '2',
      'dev.pilotage.component': 'comp@1.2.0',
    });
    assert.equal(plan.options.WorkingDir, '/workspace');
    assert.equal(plan.options.StopTimeout, 3);
    assert.equal(plan.options.Tty, false);
    assert.deepEqual(plan.options.HostConfig, {
      NetworkMode: 'host',
      AutoRemove: false,
      Mounts: [{ Type: 'bind', Source: '/srv/pilotage/runs/RUN1', Target: '/workspace' }],
    });
    assert.equal(plan.options.Entrypoint, undefined);
    assert.equal(plan.options.Cmd, undefined);
    assert.equal(plan.options.User, undefined);
    assert.deepEqual(plan.volumes, []);
    assert.deepEqual(plan.seeds, []);
    assert.deepEqual(plan.warnings, []);
  });

  const commands: Array<[string, Partial<ResolvedComponent>, unknown, unknown]> = [
    ['image defaults', {}, undefined, undefined],
    ['inline run', { command: ['sh', '-c', 'echo hi'] }, ['sh', '-c', 'echo hi'], []],
    ['command and args', { command: ['/bin/tool', '--x'], args: ['a', 'b'] }, ['/bin/tool', '--x'], ['a', 'b']],
    ['./ command resolves in /component', { command: ['./run.sh', 'go'] }, ['/component/run.sh', 'go'], []],
    ['args only keep the entrypoint', { args: ['--verbose'] }, undefined, ['--verbose']],
  ];
  for (const [name, component, entrypoint, cmd] of commands) {
    test(`entrypoint and cmd: ${name}`, () => {
      const plan = toContainerPlan(spec(component), SETTINGS);
      assert.deepEqual(plan.options.Entrypoint, entrypoint);
      assert.deepEqual(plan.options.Cmd, cmd);
    });
  }

  test('env: component env, then spec env, then what the executor must set', () => {
    const plan = toContainerPlan(
      spec(
        { env: { A: 'component', B: 'component' }, dir: '/host/components/comp' },
        { B: 'spec', CO_WORKSPACE: '/srv/x', C: 'x=y' },
      ),
      SETTINGS,
    );
    assert.deepEqual(envOf(plan), {
      A: 'component',
      B: 'spec',
      CO_WORKSPACE: '/workspace',
      C: 'x=y',
      CO_COMPONENT_DIR: '/component',
    });
    assert.equal(
      envOf(toContainerPlan(spec(), SETTINGS))['CO_COMPONENT_DIR'],
      undefined,
      'inline components have no folder',
    );
  });

  const workingDirs: Array<[string | undefined, string]> = [
    [undefined, '/workspace'],
    ['src', '/workspace/src'],
    ['/opt/app', '/opt/app'],
  ];
  for (const [workingDir, expected] of workingDirs) {
    test(`working dir ${workingDir ?? '(none)'} → ${expected}`, () => {
      const plan = toContainerPlan(spec(workingDir === undefined ? {} : { workingDir }), SETTINGS);
      assert.equal(plan.options.WorkingDir, expected);
    });
  }

  test('user is passed through', () => {
    assert.equal(toContainerPlan(spec({ user: '1000:1000' }), SETTINGS).options.User, '1000:1000');
  });

  const resources: Array<[Partial<ContainerSettings>, { cpu?: string; memory?: string }, unknown, number]> = [
    [{}, { memory: '256Mi', cpu: '500m' }, { Memory: 268_435_456, NanoCpus: 500_000_000 }, 0],
    [{}, { memory: '1Gi', cpu: '2' }, { Memory: 1_073_741_824, NanoCpus: 2_000_000_000 }, 0],
    [{}, { memory: '100M' }, { Memory: 100_000_000 }, 0],
    [{ canLimitMemory: false }, { memory: '64Mi', cpu: '0.25' }, { NanoCpus: 250_000_000 }, 1],
    [{ canLimitMemory: false, canLimitCpu: false }, { memory: '64Mi', cpu: '1' }, {}, 2],
  ];
  for (const [settings, requested, expected, warnings] of resources) {
    test(`resources ${JSON.stringify(requested)} with ${JSON.stringify(settings)}`, () => {
      const plan = toContainerPlan(spec({ resources: requested }), { ...SETTINGS, ...settings });
      const host = plan.options.HostConfig ?? {};
      assert.deepEqual(
        { Memory: host.Memory, NanoCpus: host.NanoCpus },
        { Memory: undefined, NanoCpus: undefined, ...(expected as object) },
      );
      assert.equal(plan.warnings.length, warnings);
      for (const warning of plan.warnings) assert.match(warning, /not applied: the container runtime cannot limit/);
    });
  }

  test('an invalid quantity is an ExecutorError naming the component', () => {
    assert.throws(
      () => toContainerPlan(spec({ resources: { cpu: 'fast' } }), SETTINGS),
      (error: unknown) =>
        error instanceof ExecutorError && /comp@1\.2\.0: invalid cpu quantity "fast"/.test(error.message),
    );
  });

  test('declared volumes become per-task named volumes, with their seeds', () => {
    const plan = toContainerPlan(
      spec({
        volumes: [
          { name: 'cache', mountPath: '/cache' },
          { name: 'config', mountPath: 'conf', readOnly: true, initialData: { 'a.yaml': 'a: 1' } },
        ],
      }),
      SETTINGS,
    );
    assert.deepEqual(plan.options.HostConfig?.Mounts, [
      { Type: 'bind', Source: '/srv/pilotage/runs/RUN1', Target: '/workspace' },
      { Type: 'volume', Source: 'pilotage-01abcdef-cache', Target: '/cache' },
      { Type: 'volume', Source: 'pilotage-01abcdef-config', Target: '/workspace/conf', ReadOnly: true },
    ]);
    const labels = {
      'dev.pilotage.managed': 'true',
      'dev.pilotage.engine-id': 'engine-1',
      'dev.pilotage.run-id': 'RUN1',
      'dev.pilotage.task-run-id': '01ABCDEF',
      'dev.pilotage.owner': 'pilotage-01abcdef',
    };
    assert.deepEqual(plan.volumes, [
      { name: 'pilotage-01abcdef-cache', labels },
      { name: 'pilotage-01abcdef-config', labels },
    ]);
    assert.deepEqual(plan.seeds, [
      {
        mount: { Type: 'volume', Source: 'pilotage-01abcdef-config', Target: '/workspace/conf' },
        files: { 'a.yaml': 'a: 1' },
      },
    ]);
  });

  test('a volume named workspace is the run workspace, at its mount path', () => {
    const same = toContainerPlan(
      spec({ volumes: [{ name: 'workspace', mountPath: '/workspace', readOnly: true }] }),
      SETTINGS,
    );
    assert.deepEqual(same.options.HostConfig?.Mounts, [
      { Type: 'bind', Source: '/srv/pilotage/runs/RUN1', Target: '/workspace', ReadOnly: true },
    ]);
    assert.deepEqual(same.volumes, []);
    const elsewhere = toContainerPlan(spec({ volumes: [{ name: 'workspace', mountPath: '/src' }] }), SETTINGS);
    assert.deepEqual(elsewhere.options.HostConfig?.Mounts, [
      { Type: 'bind', Source: '/srv/pilotage/runs/RUN1', Target: '/workspace' },
      { Type: 'bind', Source: '/srv/pilotage/runs/RUN1', Target: '/src' },
    ]);
  });

  test('two mounts at one path are an ExecutorError', () => {
    assert.throws(
      () =>
        toContainerPlan(
          spec({
            volumes: [
              { name: 'a', mountPath: '/data' },
              { name: 'b', mountPath: '/data/' },
            ],
          }),
          SETTINGS,
        ),
      (error: unknown) =>
        error instanceof ExecutorError && /volume "b" and volume "a" are both mounted at \/data/.test(error.message),
    );
  });

  test('an endpoint gets CO_ENDPOINT_PORT and labels to rebuild its URL; it needs a port', () => {
    const component = { endpoint: { port: 8080, path: '/event' } };
    const plan = toContainerPlan(spec(component), { ...SETTINGS, endpointPort: 41234 });
    assert.equal(envOf(plan)['CO_ENDPOINT_PORT'], '41234');
    assert.equal(plan.options.Labels?.['dev.pilotage.endpoint-port'], '41234');
    assert.equal(plan.options.Labels?.['dev.pilotage.endpoint-path'], '/event');
    assert.throws(() => toContainerPlan(spec(component), SETTINGS), ExecutorError);
  });

  test('another network is passed as NetworkMode', () => {
    assert.equal(toContainerPlan(spec(), { ...SETTINGS, network: 'podman' }).options.HostConfig?.NetworkMode, 'podman');
  });
});
