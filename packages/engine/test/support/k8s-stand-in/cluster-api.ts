import * as k8s from '@kubernetes/client-node';

/** The API clients of the stand-in, from KUBECONFIG (the test cluster's admin). */
export interface ClusterApi {
  readonly kc: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly storage: k8s.StorageV1Api;
}

export function clusterApi(): ClusterApi {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  return { kc, core: kc.makeApiClient(k8s.CoreV1Api), storage: kc.makeApiClient(k8s.StorageV1Api) };
}

/** Request options for a JSON merge patch (the generated client defaults to JSON patch). */
export const MERGE_PATCH = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** The HTTP status of a failed API call, if it has one. */
export function statusOf(error: unknown): number | undefined {
  if (error instanceof k8s.ApiException) return error.code;
  const code = (error as { statusCode?: unknown; code?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

export const log = (...parts: unknown[]): void => {
  console.log(new Date().toISOString(), ...parts);
};

/** Run `fn`, logging instead of throwing (a stand-in loop must not die of one failed call). */
export async function guarded(what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    log(`${what} failed:`, statusOf(error) ?? '', error instanceof Error ? error.message : String(error));
  }
}
