import type { ContainerInspectInfo } from 'dockerode';
import { ConfigError } from '../../domain/errors.js';
import { LABELS } from './labels.js';

/** How containers are networked, as far as URLs are concerned. */
export interface NetworkFacts {
  /** `host` or the name of a container network */
  readonly network: string;
  /** the container runtime runs on this machine (unix socket, or tcp to a loopback address) */
  readonly daemonIsLocal: boolean;
  /** an explicit base URL for callbacks, configured on the executor; wins over everything */
  readonly callbackUrl?: string;
}

/**
 * The base URL at which containers reach the engine's callback server:
 * - the executor's own `callbackUrl` when configured;
 * - else, on the host network of a local runtime, the server's loopback URL (the container
 *   shares the host's loopback);
 * - else the engine's advertised URL;
 * - else a ConfigError saying what to configure (a loopback URL would silently point the
 *   container at itself).
 */
export function callbackBaseUrlFor(facts: NetworkFacts, loopbackUrl: string, advertisedUrl?: string): string {
  if (facts.callbackUrl !== undefined) return facts.callbackUrl;
  if (facts.network === 'host' && facts.daemonIsLocal) return loopbackUrl;
  if (advertisedUrl !== undefined) return advertisedUrl;
  const where = facts.daemonIsLocal ? `on network "${facts.network}"` : 'on a remote container runtime';
  throw new ConfigError(
    `containers ${where} cannot reach the engine at ${loopbackUrl}: set the engine's advertised URL ` +
      `to an address they can reach, or use the host network with a local runtime`,
  );
}

/**
 * Where the engine POSTs event data to a component's endpoint: the host's loopback on the host
 * network (the component listens on a port chosen for it), else the container's own address on
 * its network. Undefined when the address is unknown (no IP on a non-host network).
 */
export function endpointUrlFor(
  network: string,
  endpoint: { readonly path: string },
  port: number,
  containerIp?: string,
): string | undefined {
  const path = endpoint.path.startsWith('/') ? endpoint.path : `/${endpoint.path}`;
  if (network === 'host') return `http://127.0.0.1:${port}${path}`;
  if (containerIp === undefined || containerIp === '') return undefined;
  const host = containerIp.includes(':') ? `[${containerIp}]` : containerIp;
  return `http://${host}:${port}${path}`;
}

/**
 * The endpoint URL of a container the executor created (or re-attaches), from its labels and
 * its address on its network (`network` when the inspection names none). Undefined when the
 * component has no endpoint, or its address is unknown.
 */
export function containerEndpointUrl(info: ContainerInspectInfo, network: string): string | undefined {
  const labels = info.Config.Labels ?? {};
  const port = Number(labels[LABELS.endpointPort]);
  const path = labels[LABELS.endpointPath];
  if (!Number.isInteger(port) || port <= 0 || path === undefined) return undefined;
  const mode = info.HostConfig.NetworkMode ?? network;
  const networks = info.NetworkSettings.Networks ?? {};
  // Older API versions also give the address at the top level of NetworkSettings.
  const legacy = (info.NetworkSettings as { IPAddress?: string }).IPAddress;
  const ip = networks[mode]?.IPAddress || Object.values(networks)[0]?.IPAddress || legacy;
  return endpointUrlFor(mode, { path }, port, ip);
}
