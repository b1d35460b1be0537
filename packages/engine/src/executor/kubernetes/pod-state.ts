import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { ExitInfo } from '../executor.js';
import { CONTAINER_NAME } from './pod.js';

/** Waiting reasons that can never end by themselves: the task run is errored at once. */
const HOPELESS = new Set(['ErrImageNeverPull', 'InvalidImageName']);

/** Waiting reasons that may pass (a registry hiccup, a Secret created late): errored after a grace. */
const MAYBE_PASSING = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'RegistryUnavailable',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

/** Why a pod's container cannot start, as its status says. */
export interface StartFailure {
  readonly reason: string;
  readonly message: string;
  /** the reason can never pass: no grace period */
  readonly hopeless: boolean;
}

/** Where a pod is, read from its status alone. */
export type PodProgress =
  | {
      readonly kind: 'pending';
      /** the container waits for this reason (`ContainerCreating`, `ErrImagePull`…) */
      readonly waiting?: string;
      /** the container cannot start (see StartFailure) */
      readonly failure?: StartFailure;
      /** the scheduler found no node (its message) */
      readonly unschedulable?: string;
    }
  | { readonly kind: 'running'; readonly podIP?: string }
  | { readonly kind: 'ended'; readonly exit: ExitInfo };

/**
 * Map a pod's phase and its container's state to where the task run is (pure; table-tested):
 * - the container terminated → ended with its exit code; `OOMKilled` → `oomKilled`; a pod
 *   failed for `DeadlineExceeded` (activeDeadlineSeconds) → reason `timeout`; `Evicted` →
 *   `error` (the task run is errored: the node, not the component, ended it);
 * - the pod Failed or Succeeded with no terminated container (evicted or out of time before its
 *   container started) → the same reasons, without an exit code;
 * - the container runs → running (with the pod's address, for an endpoint);
 * - otherwise pending, with the container's waiting reason; a reason that stops it from
 *   starting is a `failure` (HOPELESS ones at once, MAYBE_PASSING ones after the executor's
 *   grace); an Unschedulable condition is reported.
 */
export function readPod(pod: V1Pod): PodProgress {
  const status = pod.status ?? {};
  const container = (status.containerStatuses ?? []).find((c) => c.name === CONTAINER_NAME);
  const image = pod.spec?.containers.find((c) => c.name === CONTAINER_NAME)?.image ?? 'its image';
  const podReason = status.reason;
  const terminated = container?.state?.terminated;
  if (terminated) {
    const exit: ExitInfo = {
      exitCode: terminated.exitCode,
      ...(terminated.reason === 'OOMKilled' ? { oomKilled: true } : {}),
    };
    return { kind: 'ended', exit: withPodReason(exit, podReason, status.message) };
  }
  if (status.phase === 'Failed' || status.phase === 'Succeeded') {
    const exit: ExitInfo = status.phase === 'Succeeded' ? { exitCode: 0 } : { exitCode: null };
    const explained = withPodReason(exit, podReason, status.message);
    if (explained !== exit || status.phase === 'Succeeded') return { kind: 'ended', exit: explained };
    const why = [podReason, status.message].filter(Boolean).join(': ') || 'no reason given';
    return { kind: 'ended', exit: { exitCode: null, error: `the pod failed before its container ran (${why})` } };
  }
  if (container?.state?.running) return { kind: 'running', ...(status.podIP ? { podIP: status.podIP } : {}) };
  const waiting = container?.state?.waiting;
  const failure = startFailure(container, image);
  const unschedulable = status.conditions?.find(
    (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
  )?.message;
  return {
    kind: 'pending',
    ...(waiting?.reason ? { waiting: waiting.reason } : {}),
    ...(failure ? { failure } : {}),
    ...(unschedulable !== undefined ? { unschedulable } : {}),
  };
}

/** The pod-level reasons that explain an end: out of time, or evicted. */
function withPodReason(exit: ExitInfo, reason: string | undefined, message: string | undefined): ExitInfo {
  if (reason === 'DeadlineExceeded') return { ...exit, reason: 'timeout' };
  if (reason === 'Evicted') return { ...exit, error: `the pod was evicted${message ? `: ${message}` : ''}` };
  return exit;
}

function startFailure(container: V1ContainerStatus | undefined, image: string): StartFailure | undefined {
  const waiting = container?.state?.waiting;
  const reason = waiting?.reason;
  if (reason === undefined || (!HOPELESS.has(reason) && !MAYBE_PASSING.has(reason))) return undefined;
  const isImage = reason.includes('Image') || reason === 'RegistryUnavailable';
  const what = isImage ? `image ${image} could not be pulled` : `its container could not be created`;
  return {
    reason,
    message: `${what} (${reason}${waiting?.message ? `: ${waiting.message}` : ''})`,
    hopeless: HOPELESS.has(reason),
  };
}
