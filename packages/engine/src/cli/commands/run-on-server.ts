// `pilotage run NAME --server URL`: a module of its own, loaded only then, so that a local run does
// not load the API client and the route schemas (TypeBox: ~200 modules, a quarter of a local
// run's start-up).
import { existsSync } from 'node:fs';
import { routes } from '@pilotage/api';
import { ValidationError } from '../../domain/errors.js';
import { reportError } from '../output.js';
import { parseRunData } from '../parse-inputs.js';
import type { RunOutputFlags } from '../render/run-output.js';
import { apiClient, type ServerFlags } from '../with-server.js';

/** The flags of `pilotage run` that matter when it runs a stored workflow on a server. */
export interface RunOnServerFlags extends ServerFlags, RunOutputFlags {
  input: string[];
  data?: string;
  db?: string;
  executor?: string;
  json?: boolean;
  keepWorkspace?: boolean;
  secret: string[];
  events: string[];
  passEnv: string[];
  workflowVersion?: string;
}

// a workflow file rather than a stored workflow's name (names are DNS labels: no dot, no slash)
function looksLikeFile(name: string): boolean {
  return /[./\\]/.test(name) || existsSync(name);
}

/** Start a run of a stored workflow on the server and follow it; returns the exit code. */
export async function runOnServer(name: string, flags: RunOnServerFlags): Promise<number> {
  try {
    const localOnly = [
      ['--db', flags.db !== undefined],
      ['--executor', flags.executor !== undefined],
      ['--secret', flags.secret.length > 0],
      ['--events', flags.events.length > 0],
      ['--keep-workspace', flags.keepWorkspace === true],
      ['--pass-env', flags.passEnv.length > 0],
    ]
      .filter(([, given]) => given)
      .map(([flag]) => flag);
    if (localOnly.length > 0) {
      throw new ValidationError(
        `${localOnly.join(', ')}: only for local runs; with --server the server's settings apply`,
      );
    }
    if (looksLikeFile(name)) {
      const from = flags.server !== undefined && flags.server !== '' ? '--server' : 'PILOTAGE_SERVER';
      throw new ValidationError(
        `${from} is set, so run starts a workflow stored on that server by its name, and "${name}" is a file: ` +
          `run it here with --db FILE (a local store) or without ${from}, or apply it first ` +
          `(pilotage workflow apply ${name}) and run it by name`,
      );
    }
    const version = flags.workflowVersion === undefined ? undefined : Number(flags.workflowVersion);
    if (version !== undefined && !(Number.isInteger(version) && version >= 1)) {
      throw new ValidationError(
        `--workflow-version must be a version number such as 3, got "${flags.workflowVersion}"`,
      );
    }
    const client = apiClient(flags);
    const data = parseRunData(flags.data ? { data: flags.data } : {}, undefined);
    // without a schema every value stays text: the server types --input values by the workflow's
    // inputs schema, as a local run does
    const inputs = parseRunData({ inputs: flags.input }, undefined);
    const run = await client.call(routes.startRun, {
      params: { name },
      body: { data, inputs: inputs as Record<string, string>, ...(version === undefined ? {} : { version }) },
    });
    if (!flags.json)
      process.stderr.write(`started ${run.workflow} #${run.number} (run ${run.id}) on ${client.server}\n`);
    const { followRemoteRun } = await import('../remote-run.js');
    return await followRemoteRun(client, run.id, flags);
  } catch (error) {
    return reportError(error, flags.json === true);
  }
}
