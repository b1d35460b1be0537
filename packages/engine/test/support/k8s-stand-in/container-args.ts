import type * as k8s from '@kubernetes/client-node';

/** `64Mi` → bytes, for `podman --memory`. */
export function memoryBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T|k|m)?$/.exec(quantity);
  if (!match) throw new Error(`bad memory quantity ${quantity}`);
  const scale: Record<string, number> = {
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
    K: 1e3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    m: 1e-3,
  };
  return Math.round(Number(match[1]) * (match[2] === undefined ? 1 : scale[match[2]]!));
}

/** `500m` → 0.5, for `podman --cpus`. */
export function cpuCores(quantity: string): number {
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}

/**
 * The `podman create` arguments of a pod's (single) container, as a kubelet would run it on the
 * host network: env, working dir, mounts, limits, user, and Kubernetes' command/args rule
 * (`command` replaces the image's entrypoint and drops its cmd; `args` replace the cmd).
 */
export function createArgs(options: {
  readonly name: string;
  readonly pod: k8s.V1Pod;
  readonly container: k8s.V1Container;
  readonly env: Readonly<Record<string, string>>;
  readonly mounts: ReadonlyMap<string, { path: string; readOnly: boolean }>;
  readonly labels: Readonly<Record<string, string>>;
  /** where the runtime writes the container's CRI log (as a kubelet chooses it) */
  readonly logPath: string;
}): string[] {
  const { pod, container: c } = options;
  const args = ['create', '--name', options.name, '--network', 'host', '--pull', 'never'];
  args.push('--log-driver', 'k8s-file', '--log-opt', `path=${options.logPath}`);
  for (const [key, value] of Object.entries(options.labels)) args.push('--label', `${key}=${value}`);
  for (const [key, value] of Object.entries(options.env)) args.push('-e', `${key}=${value}`);
  if (c.workingDir) args.push('-w', c.workingDir);
  for (const mount of c.volumeMounts ?? []) {
    const volume = options.mounts.get(mount.name);
    if (volume === undefined) throw new Error(`volumeMount ${mount.name}: no such volume`);
    const source = mount.subPath ? `${volume.path}/${mount.subPath}` : volume.path;
    const readOnly = mount.readOnly === true || volume.readOnly;
    args.push('-v', `${source}:${mount.mountPath}${readOnly ? ':ro' : ''}`);
  }
  const limits = c.resources?.limits ?? {};
  if (limits['memory'] !== undefined) args.push('--memory', String(memoryBytes(String(limits['memory']))));
  if (limits['cpu'] !== undefined) args.push('--cpus', String(cpuCores(String(limits['cpu']))));
  const security = { ...pod.spec?.securityContext, ...c.securityContext };
  if (security.runAsUser !== undefined) {
    args.push('--user', `${security.runAsUser}${security.runAsGroup === undefined ? '' : `:${security.runAsGroup}`}`);
  }
  if (c.securityContext?.readOnlyRootFilesystem === true) args.push('--read-only');
  if (c.command !== undefined) args.push('--entrypoint', JSON.stringify(c.command));
  args.push(c.image!, ...(c.args ?? []));
  return args;
}
