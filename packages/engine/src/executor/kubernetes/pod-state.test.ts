import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1ContainerState, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { readPod, type PodProgress } from './pod-state.js';

const IMAGE = 'registry.example.com/tool:1';

function pod(status: V1PodStatus, state?: V1ContainerState): V1Pod {
  return {
    spec: { containers: [{ name: 'component', image: IMAGE }] },
    status: {
      ...status,
      ...(state
        ? {
            containerStatuses: [{ name: 'component', image: IMAGE, imageID: '', ready: false, restartCount: 0, state }],
          }
        : {}),
    },
  };
}

const rows: [string, V1Pod, PodProgress][] = [
  ['just created: pending', pod({}), { kind: 'pending' }],
  [
    'ContainerCreating: pending, waiting',
    pod({ phase: 'Pending' }, { waiting: { reason: 'ContainerCreating' } }),
    { kind: 'pending', waiting: 'ContainerCreating' },
  ],
  [
    "Unschedulable: pending, with the scheduler's message",
    pod({
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes' }],
    }),
    { kind: 'pending', unschedulable: '0/3 nodes' },
  ],
  [
    'ErrImagePull: a failure that may pass (grace)',
    pod({ phase: 'Pending' }, { waiting: { reason: 'ErrImagePull', message: 'not found' } }),
    {
      kind: 'pending',
      waiting: 'ErrImagePull',
      failure: {
        reason: 'ErrImagePull',
        message: `image ${IMAGE} could not be pulled (ErrImagePull: not found)`,
        hopeless: false,
      },
    },
  ],
  [
    'ImagePullBackOff: a failure that may pass',
    pod({ phase: 'Pending' }, { waiting: { reason: 'ImagePullBackOff' } }),
    {
      kind: 'pending',
      waiting: 'ImagePullBackOff',
      failure: {
        reason: 'ImagePullBackOff',
        message: `image ${IMAGE} could not be pulled (ImagePullBackOff)`,
        hopeless: false,
      },
    },
  ],
  [
    'ErrImageNeverPull: hopeless',
    pod({ phase: 'Pending' }, { waiting: { reason: 'ErrImageNeverPull', message: 'pull policy of Never' } }),
    {
      kind: 'pending',
      waiting: 'ErrImageNeverPull',
      failure: {
        reason: 'ErrImageNeverPull',
        message: `image ${IMAGE} could not be pulled (ErrImageNeverPull: pull policy of Never)`,
        hopeless: true,
      },
    },
  ],
  [
    'CreateContainerConfigError (a missing Secret): may pass',
    pod({ phase: 'Pending' }, { waiting: { reason: 'CreateContainerConfigError', message: 'secret "x" not found' } }),
    {
      kind: 'pending',
      waiting: 'CreateContainerConfigError',
      failure: {
        reason: 'CreateContainerConfigError',
        message: 'its container could not be created (CreateContainerConfigError: secret "x" not found)',
        hopeless: false,
      },
    },
  ],
  [
    'running, with its address',
    pod({ phase: 'Running', podIP: '10.1.2.3' }, { running: {} }),
    { kind: 'running', podIP: '10.1.2.3' },
  ],
  [
    'Succeeded: exit 0',
    pod({ phase: 'Succeeded' }, { terminated: { exitCode: 0, reason: 'Completed' } }),
    { kind: 'ended', exit: { exitCode: 0 } },
  ],
  [
    'Failed: its exit code',
    pod({ phase: 'Failed' }, { terminated: { exitCode: 3, reason: 'Error' } }),
    { kind: 'ended', exit: { exitCode: 3 } },
  ],
  [
    'terminated before the phase moved: ended already',
    pod({ phase: 'Running' }, { terminated: { exitCode: 0 } }),
    { kind: 'ended', exit: { exitCode: 0 } },
  ],
  [
    'OOMKilled: oomKilled',
    pod({ phase: 'Failed' }, { terminated: { exitCode: 137, reason: 'OOMKilled' } }),
    { kind: 'ended', exit: { exitCode: 137, oomKilled: true } },
  ],
  [
    'DeadlineExceeded after it ran: timeout',
    pod({ phase: 'Failed', reason: 'DeadlineExceeded' }, { terminated: { exitCode: 137, reason: 'Error' } }),
    { kind: 'ended', exit: { exitCode: 137, reason: 'timeout' } },
  ],
  [
    'DeadlineExceeded before it ran: timeout, no exit code',
    pod({ phase: 'Failed', reason: 'DeadlineExceeded', message: 'too long' }, { waiting: { reason: 'ErrImagePull' } }),
    { kind: 'ended', exit: { exitCode: null, reason: 'timeout' } },
  ],
  [
    "Evicted: errored with the node's message",
    pod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' }),
    { kind: 'ended', exit: { exitCode: null, error: 'the pod was evicted: The node was low on resource: memory.' } },
  ],
  [
    'Failed with no container end and no known reason: errored, saying so',
    pod({ phase: 'Failed', reason: 'NodeLost' }),
    { kind: 'ended', exit: { exitCode: null, error: 'the pod failed before its container ran (NodeLost)' } },
  ],
];

describe('readPod: phases and container states to task-run progress', () => {
  for (const [what, given, expected] of rows) {
    test(what, () => assert.deepEqual(readPod(given), expected));
  }
});
