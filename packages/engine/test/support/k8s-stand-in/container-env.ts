import type * as k8s from '@kubernetes/client-node';
import type { ClusterApi } from './cluster-api.js';

/**
 * A container's environment as the kubelet builds it: `envFrom` (ConfigMaps, Secrets, with
 * their prefix), then `env` in order (`value` with `$(NAME)` expanded from what is defined
 * before it, or `valueFrom` a field, a Secret key or a ConfigMap key).
 */
export async function containerEnv(
  api: ClusterApi,
  pod: k8s.V1Pod,
  c: k8s.V1Container,
): Promise<Record<string, string>> {
  const namespace = pod.metadata!.namespace!;
  const env: Record<string, string> = {};
  const secretData = async (name: string) =>
    Object.fromEntries(
      Object.entries((await api.core.readNamespacedSecret({ name, namespace })).data ?? {}).map(([k, v]) => [
        k,
        Buffer.from(v, 'base64').toString(),
      ]),
    );
  const mapData = async (name: string) => (await api.core.readNamespacedConfigMap({ name, namespace })).data ?? {};
  for (const source of c.envFrom ?? []) {
    const prefix = source.prefix ?? '';
    const data = source.configMapRef
      ? await mapData(source.configMapRef.name!)
      : source.secretRef
        ? await secretData(source.secretRef.name!)
        : {};
    for (const [key, value] of Object.entries(data)) env[prefix + key] = value;
  }
  const fields: Record<string, unknown> = {
    'metadata.name': pod.metadata?.name,
    'metadata.namespace': namespace,
    'metadata.uid': pod.metadata?.uid,
    'spec.nodeName': pod.spec?.nodeName,
    'spec.serviceAccountName': pod.spec?.serviceAccountName,
    'status.hostIP': '127.0.0.1',
    'status.podIP': '127.0.0.1',
  };
  for (const item of c.env ?? []) {
    const from = item.valueFrom;
    if (from === undefined) {
      env[item.name] = (item.value ?? '').replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n: string) => env[n] ?? m);
    } else if (from.fieldRef) {
      const path = from.fieldRef.fieldPath;
      const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
      env[item.name] = String(
        label ? (pod.metadata?.[label[1] as 'labels' | 'annotations']?.[label[2]!] ?? '') : (fields[path] ?? ''),
      );
    } else if (from.secretKeyRef) {
      env[item.name] = (await secretData(from.secretKeyRef.name!))[from.secretKeyRef.key] ?? '';
    } else if (from.configMapKeyRef) {
      env[item.name] = (await mapData(from.configMapKeyRef.name!))[from.configMapKeyRef.key] ?? '';
    }
  }
  return env;
}
