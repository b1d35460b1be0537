import type { PullPolicy } from '../../plan/types.js';

/** Defaults of the docker executor. */
export const DOCKER_DEFAULTS = {
  dockerHost: 'unix:///var/run/docker.sock',
  pullPolicy: 'if-missing' as PullPolicy,
  network: 'host',
  killGraceMs: 10_000,
} as const;
