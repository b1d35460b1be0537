import type { AuthConfig } from 'dockerode';
import { ExecutorError } from '../../domain/errors.js';
import type { RegistryAuthProvider } from './image-puller.js';

/** Secrets named `REGISTRY_AUTH_<HOST>` hold the credentials of the registry at HOST. */
export const REGISTRY_AUTH_SECRET_PREFIX = 'REGISTRY_AUTH_';

/** The registry of images named without one (`alpine`, `library/node`). */
export const DOCKER_HUB = 'docker.io';

/** The address Docker Hub credentials are given for (what `docker login` uses). */
const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';

const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/**
 * The registry host of an image reference, as Docker reads it: the first path component when it
 * looks like a host (holds a `.` or a `:`, or is `localhost`), else Docker Hub (`docker.io`).
 * `ghcr.io/acme/tool:1` → `ghcr.io`; `registry:5000/x` → `registry:5000`; `alpine` → `docker.io`.
 * Lowercased; Docker Hub's aliases become `docker.io`.
 */
export function registryHostOf(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return DOCKER_HUB;
  const first = image.slice(0, slash);
  const isHost = first.includes('.') || first.includes(':') || first === 'localhost';
  if (!isHost) return DOCKER_HUB;
  const host = first.toLowerCase();
  return HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}

/**
 * The secret that holds a registry's credentials: `REGISTRY_AUTH_` + the host in upper case with
 * every character other than A-Z and 0-9 replaced by `_` (`ghcr.io` → `REGISTRY_AUTH_GHCR_IO`,
 * `registry.example.com:5000` → `REGISTRY_AUTH_REGISTRY_EXAMPLE_COM_5000`). As an environment
 * variable: `PILOTAGE_SECRET_REGISTRY_AUTH_GHCR_IO`.
 */
export function registryAuthSecretName(host: string): string {
  return `${REGISTRY_AUTH_SECRET_PREFIX}${host.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * Credentials from a secret's value, for the registry at `host`. Accepted forms:
 * - `username:password` (the first `:` separates them; a token is a password);
 * - JSON `{"username": "…", "password": "…"}`, or `{"identitytoken": "…"}`, or
 *   `{"auth": "<base64 of username:password>"}` (the form of a `~/.docker/config.json` entry).
 * `serveraddress` is set to the host (Docker Hub: `https://index.docker.io/v1/`). Anything else
 * is an ExecutorError naming the secret, never its value.
 */
export function parseRegistryCredentials(value: string, host: string, secretName: string): AuthConfig {
  const serveraddress = host === DOCKER_HUB ? DOCKER_HUB_SERVER : host;
  const malformed = (why: string): never => {
    throw new ExecutorError(
      `the registry credentials in secret ${secretName} are malformed (${why}): ` +
        'expected username:password or JSON {"username","password"}, {"identitytoken"} or {"auth"}',
    );
  };
  const text = value.trim();
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return malformed('not valid JSON');
    }
    const field = (name: string): string | undefined => {
      const found = (parsed as Record<string, unknown>)[name];
      return typeof found === 'string' && found !== '' ? found : undefined;
    };
    const identitytoken = field('identitytoken');
    if (identitytoken !== undefined) return { identitytoken, serveraddress };
    let username = field('username');
    let password = field('password');
    const auth = field('auth');
    if (username === undefined && auth !== undefined) {
      const decoded = Buffer.from(auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) return malformed('auth is not base64 of username:password');
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
    if (username === undefined || password === undefined) return malformed('no username and password');
    return { username, password, serveraddress };
  }
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) return malformed('no username:password');
  return { username: text.slice(0, colon), password: text.slice(colon + 1), serveraddress };
}

/**
 * A `registryAuth` hook of the docker executor reading the engine's secrets: for an image, the
 * secret `registryAuthSecretName(registryHostOf(image))` parsed by `parseRegistryCredentials`,
 * or none (an anonymous pull) when there is no such secret. The secrets are read at each pull,
 * so the map may change (a secret store).
 */
export function registryAuthFromSecrets(
  secrets: Readonly<Record<string, string>> | (() => Readonly<Record<string, string>>),
): RegistryAuthProvider {
  return (image) => {
    const host = registryHostOf(image);
    const name = registryAuthSecretName(host);
    const value = (typeof secrets === 'function' ? secrets() : secrets)[name];
    return value === undefined ? undefined : parseRegistryCredentials(value, host, name);
  };
}
