import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import type { ClusterApi } from './cluster-api.js';
import { podman } from './podman.js';

/** A pull that takes longer than this fails (an unreachable registry must not hold a pod), ms. */
const PULL_TIMEOUT_MS = 60_000;

/** Registries the stand-in reaches without TLS, as a kubelet's runtime configured with them as insecure. */
const INSECURE_HOSTS = /^(127\.0\.0\.1|localhost)(:\d+)?$/;

/** Why a pull failed, as the kubelet says it (`ErrImagePull`'s message). */
export class PullFailed extends Error {}

/**
 * The registry host of an image reference (`127.0.0.1:5000/x/y:1` → `127.0.0.1:5000`), or
 * undefined for a name without one (Docker Hub, unreachable here).
 */
function hostOf(image: string): string | undefined {
  const slash = image.indexOf('/');
  if (slash < 0) return undefined;
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined;
}

/**
 * The `auths` of the pod's image pull Secrets (`kubernetes.io/dockerconfigjson`), read through
 * the API server as a kubelet reads them; a Secret that is missing or of another type is
 * skipped, as the kubelet does (it then pulls with what is left, or anonymously).
 */
async function pullAuths(api: ClusterApi, pod: k8s.V1Pod): Promise<Record<string, unknown>> {
  const namespace = pod.metadata!.namespace!;
  const auths: Record<string, unknown> = {};
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    if (!ref.name) continue;
    const secret = await api.core.readNamespacedSecret({ name: ref.name, namespace }).catch(() => undefined);
    const encoded = secret?.type === 'kubernetes.io/dockerconfigjson' ? secret.data?.['.dockerconfigjson'] : undefined;
    if (encoded === undefined) continue;
    try {
      const config = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as { auths?: Record<string, unknown> };
      Object.assign(auths, config.auths ?? {});
    } catch {
      // a malformed Secret gives no credentials (the kubelet logs it and goes on)
    }
  }
  return auths;
}

/**
 * Pull `image` into Podman's store as a kubelet would for this pod: with the credentials of its
 * image pull Secrets (written to a private auth file of the `.dockerconfigjson` form for the one
 * pull, removed after), TLS verification off only for registries on the loopback address (the
 * tests' registry has no certificate). Throws PullFailed with the registry's answer.
 */
export async function pullImage(api: ClusterApi, pod: k8s.V1Pod, image: string): Promise<void> {
  const auths = await pullAuths(api, pod);
  const host = hostOf(image);
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-stand-in-pull-'));
  try {
    const authFile = join(dir, 'auth.json');
    await writeFile(authFile, JSON.stringify({ auths }), { mode: 0o600 });
    const result = await podman(
      [
        'pull',
        '--quiet',
        '--authfile',
        authFile,
        ...(host !== undefined && INSECURE_HOSTS.test(host) ? ['--tls-verify=false'] : []),
        image,
      ],
      PULL_TIMEOUT_MS,
    );
    if (result.code !== 0) {
      const why = result.stderr.split('\n').filter(Boolean).pop() ?? `podman pull exited with ${result.code}`;
      throw new PullFailed(`rpc error: code = Unknown desc = failed to pull and unpack image "${image}": ${why}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
