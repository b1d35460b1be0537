import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container } from '@kubernetes/client-node';
import { ExecutorError } from '../../domain/errors.js';
import type { ResolvedComponent } from '../../plan/types.js';
import type { TaskSpec } from '../executor.js';
import { INHERIT_NOTHING } from '../shared/component-env.js';
import { toPodPlan, type PodPlan, type PodSettings } from './pod.js';
import { streamOf, STDERR_MARK } from './stderr-tag.js';

const SETTINGS: PodSettings = {
  namespace: 'builds',
  engineId: 'engine-1',
  image: 'registry.example.com/tool:1',
  pullPolicy: 'if-missing',
  killGraceMs: 2500,
  imagePullSecrets: [],
  envPolicy: INHERIT_NOTHING,
};

/** A task spec of component `comp@1.2.0`, action `compile` of stage `build`, attempt 2. */
function spec(component: Partial<ResolvedComponent> = {}, over: Partial<TaskSpec> = {}): TaskSpec {
  return {
    runId: '01RUNAAAA',
    taskRunId: '01TASKBBBB',
    attempt: 2,
    workflow: 'Build & Test',
    stage: 'build',
    action: 'compile',
    component: { name: 'comp', version: '1.2.0', strict: true, env: {}, volumes: [], ...component },
    env: { CO_RUN_ID: '01RUNAAAA' },
    workspace: { mountPath: '/workspace', ref: 'pilotage-ws-01runaaaa' },
    timeoutMs: 90_500,
    ...over,
  };
}

const container = (plan: PodPlan): V1Container => plan.pod.spec!.containers[0]!;
const envOf = (plan: PodPlan): Record<string, string> =>
  Object.fromEntries((container(plan).env ?? []).map((e) => [e.name, e.value ?? '']));

/** One row: what is given (component fields, spec fields, settings) → the pod field it becomes. */
interface Row {
  readonly field: string;
  readonly component?: Partial<ResolvedComponent>;
  readonly spec?: Partial<TaskSpec>;
  readonly settings?: Partial<PodSettings>;
  readonly read: (plan: PodPlan) => unknown;
  readonly expected: unknown;
}

const rows: Row[] = [
  // identity: one pod per task run, named after it, labelled for the watch and recovery
  {
    field: 'taskRunId → name',
    read: (p) => [p.name, p.pod.metadata?.name],
    expected: ['pilotage-01taskbbbb', 'pilotage-01taskbbbb'],
  },
  { field: 'settings.namespace → namespace', read: (p) => p.pod.metadata?.namespace, expected: 'builds' },
  {
    field: 'run, task run, workflow, stage, action, attempt, component → labels',
    read: (p) => p.pod.metadata?.labels,
    expected: {
      'pilotage.dev/managed': 'true',
      'pilotage.dev/engine-id': 'engine-1',
      'pilotage.dev/run-id': '01RUNAAAA',
      'pilotage.dev/task-run-id': '01TASKBBBB',
      'pilotage.dev/workflow': 'Build-Test',
      'pilotage.dev/stage': 'build',
      'pilotage.dev/action': 'compile',
      'pilotage.dev/attempt': '2',
      'pilotage.dev/component': 'comp',
    },
  },
  {
    field: 'exact names and version → annotations',
    read: (p) => p.pod.metadata?.annotations,
    expected: {
      'pilotage.dev/component': 'comp@1.2.0',
      'pilotage.dev/workflow': 'Build & Test',
      'pilotage.dev/stage': 'build',
      'pilotage.dev/action': 'compile',
    },
  },
  { field: 'restartPolicy', read: (p) => p.pod.spec?.restartPolicy, expected: 'Never' },
  {
    field: 'timeoutMs → activeDeadlineSeconds (rounded up)',
    read: (p) => p.pod.spec?.activeDeadlineSeconds,
    expected: 91,
  },
  {
    field: 'killGraceMs → terminationGracePeriodSeconds',
    read: (p) => p.pod.spec?.terminationGracePeriodSeconds,
    expected: 3,
  },
  { field: 'no API token by default', read: (p) => p.pod.spec?.automountServiceAccountToken, expected: false },
  { field: 'no Service variables by default', read: (p) => p.pod.spec?.enableServiceLinks, expected: false },
  // image
  { field: 'settings.image → image', read: (p) => container(p).image, expected: 'registry.example.com/tool:1' },
  { field: 'pullPolicy default → IfNotPresent', read: (p) => container(p).imagePullPolicy, expected: 'IfNotPresent' },
  {
    field: 'pullPolicy always → Always',
    component: { pullPolicy: 'always' },
    read: (p) => container(p).imagePullPolicy,
    expected: 'Always',
  },
  {
    field: 'pullPolicy never → Never',
    component: { pullPolicy: 'never' },
    read: (p) => container(p).imagePullPolicy,
    expected: 'Never',
  },
  {
    field: 'settings.pullPolicy never → Never',
    settings: { pullPolicy: 'never' },
    read: (p) => container(p).imagePullPolicy,
    expected: 'Never',
  },
  // command and args, as Kubernetes reads them
  {
    field: "no command, no args → the image's",
    read: (p) => [container(p).command, container(p).args],
    expected: [undefined, undefined],
  },
  {
    field: 'args alone → args',
    component: { args: ['--fast'] },
    read: (p) => [container(p).command, container(p).args],
    expected: [undefined, ['--fast']],
  },
  {
    field: 'command + args → command, args',
    component: { command: ['/bin/tool', 'build'], args: ['--push'] },
    read: (p) => [container(p).command, container(p).args],
    expected: [['/bin/tool', 'build'], ['--push']],
  },
  {
    field: './x command → /component/x, CO_COMPONENT_DIR',
    component: { command: ['./run.sh'] },
    read: (p) => [container(p).command, envOf(p)['CO_COMPONENT_DIR']],
    expected: [['/component/run.sh'], '/component'],
  },
  {
    field: 'dir → CO_COMPONENT_DIR',
    component: { dir: '/src/comp', image: 'x' },
    read: (p) => envOf(p)['CO_COMPONENT_DIR'],
    expected: '/component',
  },
  {
    field: 'a shell command (inline run:) → the stderr tag wrapper, under the same shell',
    component: { command: ['sh', '-c', 'echo hi'], args: ['a'] },
    read: (p) => [container(p).command?.slice(0, 2), container(p).command?.slice(3), container(p).args],
    expected: [['sh', '-c'], ['pilotage-stderr-tag', 'sh', '-c', 'echo hi', 'a'], undefined],
  },
  // environment
  {
    field: 'spec.env (contract, component, workflow, action env) → env, then CO_WORKSPACE',
    spec: { env: { CO_DATA: '{}', GREETING: 'hi', CO_WORKSPACE: '/ignored' } },
    read: envOf,
    expected: { CO_DATA: '{}', GREETING: 'hi', CO_WORKSPACE: '/workspace' },
  },
  {
    field: 'passEnv (engine setting, workflow, action) → only those of the engine env, never PILOTAGE_*',
    spec: { env: {}, passEnv: ['AWS_*'] },
    settings: {
      envPolicy: {
        engineEnv: { AWS_REGION: 'eu', HOME: '/root', PILOTAGE_TOKEN: 't', CI: '1' },
        base: [],
        passEnv: ['CI', 'PILOTAGE_*'],
      },
    },
    read: envOf,
    expected: { CI: '1', AWS_REGION: 'eu', CO_WORKSPACE: '/workspace' },
  },
  {
    field: 'endpoint → CO_ENDPOINT_PORT and a container port',
    component: { endpoint: { port: 8080, path: '/event' } },
    read: (p) => [envOf(p)['CO_ENDPOINT_PORT'], container(p).ports],
    expected: ['8080', [{ name: 'endpoint', containerPort: 8080, protocol: 'TCP' }]],
  },
  // working dir, user, resources
  { field: 'working dir default → the workspace', read: (p) => container(p).workingDir, expected: '/workspace' },
  {
    field: 'workingDir (relative) → under the workspace',
    component: { workingDir: 'src' },
    read: (p) => container(p).workingDir,
    expected: '/workspace/src',
  },
  {
    field: 'workingDir (absolute)',
    component: { workingDir: '/opt' },
    read: (p) => container(p).workingDir,
    expected: '/opt',
  },
  {
    field: 'user 1000 → runAsUser',
    component: { user: '1000' },
    read: (p) => container(p).securityContext,
    expected: { runAsUser: 1000 },
  },
  {
    field: 'user 1000:2000 → runAsUser, runAsGroup',
    component: { user: '1000:2000' },
    read: (p) => container(p).securityContext,
    expected: { runAsUser: 1000, runAsGroup: 2000 },
  },
  {
    field: 'resources → requests and limits',
    component: { resources: { cpu: '500m', memory: '256Mi' } },
    read: (p) => container(p).resources,
    expected: { requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
  },
  { field: 'no resources → none', read: (p) => container(p).resources, expected: undefined },
  // the run's workspace and declared volumes
  {
    field: "workspace.ref → the run's claim at the mount path",
    read: (p) => [p.pod.spec?.volumes?.[0], container(p).volumeMounts],
    expected: [
      { name: 'workspace', persistentVolumeClaim: { claimName: 'pilotage-ws-01runaaaa' } },
      [{ name: 'workspace', mountPath: '/workspace' }],
    ],
  },
  {
    field: 'workspace without a ref → emptyDir (a run with a single action)',
    spec: { workspace: { mountPath: '/ws' } },
    read: (p) => [p.pod.spec?.volumes, envOf(p)['CO_WORKSPACE']],
    expected: [[{ name: 'workspace', emptyDir: {} }], '/ws'],
  },
  {
    field: 'volume → emptyDir of the pod (relative mountPath under the workspace)',
    component: {
      volumes: [
        { name: 'cache', mountPath: '/cache' },
        { name: 'tmp', mountPath: 'tmp', readOnly: true },
      ],
    },
    read: (p) => [p.pod.spec?.volumes?.slice(1), container(p).volumeMounts?.slice(1)],
    expected: [
      [
        { name: 'vol-cache', emptyDir: {} },
        { name: 'vol-tmp', emptyDir: {} },
      ],
      [
        { name: 'vol-cache', mountPath: '/cache' },
        { name: 'vol-tmp', mountPath: '/workspace/tmp', readOnly: true },
      ],
    ],
  },
  {
    field: 'volume with initialData → a ConfigMap of its files, mounted read-only (a warning unless declared so)',
    component: {
      volumes: [{ name: 'conf', mountPath: '/etc/tool', initialData: { 'b.txt': 'B', 'dir/a.json': '{}' } }],
    },
    read: (p) => [
      p.configMaps.map((c) => [c.metadata?.name, c.metadata?.labels?.['pilotage.dev/owner'], c.data]),
      p.pod.spec?.volumes?.[1],
      container(p).volumeMounts?.[1],
      p.warnings,
    ],
    expected: [
      [['pilotage-01taskbbbb-conf', 'pilotage-01taskbbbb', { 'file-0': 'B', 'file-1': '{}' }]],
      {
        name: 'vol-conf',
        configMap: {
          name: 'pilotage-01taskbbbb-conf',
          items: [
            { key: 'file-0', path: 'b.txt' },
            { key: 'file-1', path: 'dir/a.json' },
          ],
        },
      },
      { name: 'vol-conf', mountPath: '/etc/tool', readOnly: true },
      ['volume conf holds initial data: on Kubernetes it is a read-only ConfigMap'],
    ],
  },
  {
    field: 'volume named workspace → the workspace (read-only, or also elsewhere)',
    component: {
      volumes: [
        { name: 'workspace', mountPath: '/workspace', readOnly: true },
        { name: 'workspace', mountPath: '/src' },
      ],
    },
    read: (p) => [p.pod.spec?.volumes?.length, container(p).volumeMounts],
    expected: [
      1,
      [
        { name: 'workspace', mountPath: '/workspace', readOnly: true },
        { name: 'workspace', mountPath: '/src' },
      ],
    ],
  },
  // the kubernetes: block
  {
    field: 'serviceAccountName (component over settings)',
    component: { kubernetes: { serviceAccountName: 'builder' } },
    settings: { serviceAccountName: 'pilotage-components' },
    read: (p) => p.pod.spec?.serviceAccountName,
    expected: 'builder',
  },
  {
    field: 'settings.serviceAccountName',
    settings: { serviceAccountName: 'runner' },
    read: (p) => p.pod.spec?.serviceAccountName,
    expected: 'runner',
  },
  {
    field: 'nodeSelector, tolerations, affinity, topologySpreadConstraints',
    component: {
      kubernetes: {
        nodeSelector: { 'kubernetes.io/arch': 'amd64' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'builds', effect: 'NoSchedule' }],
        affinity: {
          nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: {} }] },
        },
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway' }],
      },
    },
    read: (p) => [
      p.pod.spec?.nodeSelector,
      p.pod.spec?.tolerations,
      p.pod.spec?.affinity,
      p.pod.spec?.topologySpreadConstraints,
    ],
    expected: [
      { 'kubernetes.io/arch': 'amd64' },
      [{ key: 'dedicated', operator: 'Equal', value: 'builds', effect: 'NoSchedule' }],
      { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: {} }] } },
      [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway' }],
    ],
  },
  {
    field: "imagePullSecrets: the secret store's (settings), then the component's",
    component: { kubernetes: { imagePullSecrets: ['team-registry'] } },
    settings: { imagePullSecrets: ['pilotage-pull-01runaaaa-ghcr-io'] },
    read: (p) => p.pod.spec?.imagePullSecrets,
    expected: [{ name: 'pilotage-pull-01runaaaa-ghcr-io' }, { name: 'team-registry' }],
  },
  {
    field: 'priorityClassName, runtimeClassName, schedulerName, dnsPolicy, dnsConfig, hostAliases',
    component: {
      kubernetes: {
        priorityClassName: 'high',
        runtimeClassName: 'gvisor',
        schedulerName: 'batch',
        dnsPolicy: 'None',
        dnsConfig: { nameservers: ['1.1.1.1'] },
        hostAliases: [{ ip: '10.0.0.9', hostnames: ['git.internal'] }],
      },
    },
    read: (p) => [
      p.pod.spec?.priorityClassName,
      p.pod.spec?.runtimeClassName,
      p.pod.spec?.schedulerName,
      p.pod.spec?.dnsPolicy,
      p.pod.spec?.dnsConfig,
      p.pod.spec?.hostAliases,
    ],
    expected: [
      'high',
      'gvisor',
      'batch',
      'None',
      { nameservers: ['1.1.1.1'] },
      [{ ip: '10.0.0.9', hostnames: ['git.internal'] }],
    ],
  },
  {
    field: 'securityContext (pod) and containerSecurityContext (over user)',
    component: {
      user: '1000',
      kubernetes: {
        securityContext: { fsGroup: 2000 },
        containerSecurityContext: { runAsUser: 3000, readOnlyRootFilesystem: true },
      },
    },
    read: (p) => [p.pod.spec?.securityContext, container(p).securityContext],
    expected: [{ fsGroup: 2000 }, { runAsUser: 3000, readOnlyRootFilesystem: true }],
  },
  {
    field: 'automountServiceAccountToken, enableServiceLinks when asked',
    component: { kubernetes: { automountServiceAccountToken: true, enableServiceLinks: true } },
    read: (p) => [p.pod.spec?.automountServiceAccountToken, p.pod.spec?.enableServiceLinks],
    expected: [true, true],
  },
  {
    field: "labels (not over Pilotage's, with a warning) and annotations",
    component: {
      kubernetes: { labels: { team: 'infra', 'pilotage.dev/run-id': 'forged' }, annotations: { note: 'x' } },
    },
    read: (p) => [
      p.pod.metadata?.labels?.['team'],
      p.pod.metadata?.labels?.['pilotage.dev/run-id'],
      p.pod.metadata?.annotations?.['note'],
      p.warnings,
    ],
    expected: ['infra', '01RUNAAAA', 'x', ["label pilotage.dev/run-id is Pilotage's own: the component's is ignored"]],
  },
];

describe('toPodPlan: every component and action field to its pod field', () => {
  for (const row of rows) {
    test(row.field, () => {
      const plan = toPodPlan(spec(row.component, row.spec), { ...SETTINGS, ...row.settings });
      assert.deepEqual(row.read(plan), row.expected);
    });
  }

  test('what cannot become a pod is an ExecutorError naming the component', () => {
    const cases: [Partial<ResolvedComponent>, RegExp][] = [
      [{ user: 'builder' }, /comp@1\.2\.0: user "builder" is a name: a pod runs as a numeric uid/],
      [{ resources: { memory: 'lots' } }, /comp@1\.2\.0: .*lots/],
      [
        { volumes: [{ name: 'a', mountPath: '/workspace' }] },
        /volume "a" and the workspace are both mounted at \/workspace/,
      ],
      [
        { volumes: [{ name: 'workspace', mountPath: '/workspace', initialData: { a: 'b' } }] },
        /initialData on the workspace volume/,
      ],
    ];
    for (const [component, message] of cases) {
      assert.throws(
        () => toPodPlan(spec(component), SETTINGS),
        (error: unknown) => {
          assert.ok(error instanceof ExecutorError);
          assert.match(error.message, message);
          return true;
        },
      );
    }
  });
});

describe('stderr tag', () => {
  test('a marked line is stderr without its mark; others are stdout as they are', () => {
    assert.deepEqual(streamOf(`${STDERR_MARK}oops`), { stream: 'stderr', line: 'oops' });
    assert.deepEqual(streamOf('fine'), { stream: 'stdout', line: 'fine' });
    assert.deepEqual(streamOf(''), { stream: 'stdout', line: '' });
  });
});
