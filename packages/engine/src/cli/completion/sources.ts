import { existsSync } from 'node:fs';
import { openStore } from '../../store/open-store.js';
import { parseStoreUrl } from '../../store/parse-store-url.js';
import type { RunRecord } from '../../store/types.js';
import { createApiClient } from '../api-client.js';
import { configFrom } from '../runtime-flags.js';
import type { Candidate, CompletionSources, Target } from './complete.js';

/** How long completion waits for a server or a store, ms: a TAB must not hang. */
const SOURCE_TIMEOUT_MS = 3000;

/**
 * The candidates completion reads: workflows and components from the server, runs from the
 * server or the local store (never created: a store file that does not exist has no runs). Any
 * failure (no server, a refused token, a timeout) gives no candidates, silently.
 */
export const completionSources: CompletionSources = {
  workflows: (target) =>
    fromServer(target, async (request) =>
      (await request<{ name: string; latestVersion: number; enabled: boolean }[]>('/v1/workflows')).map((w) => ({
        value: w.name,
        description: `v${w.latestVersion}${w.enabled ? '' : ', disabled'}`,
      })),
    ),
  components: (target) =>
    fromServer(target, async (request) =>
      (await request<{ name: string; version: string; description?: string }[]>('/v1/components')).map((c) => ({
        value: `${c.name}@${c.version}`,
        ...(c.description ? { description: c.description } : {}),
      })),
    ),
  runs: (target) =>
    target.server !== undefined
      ? fromServer(target, async (request) =>
          (await request<{ runs: RunRecord[] }>('/v1/runs?limit=30')).runs.map(runCandidate),
        )
      : bounded(localRuns(target)),
};

function runCandidate(run: Pick<RunRecord, 'id' | 'workflow' | 'number' | 'state'>): Candidate {
  return { value: run.id, description: `${run.workflow} #${run.number} ${run.state}` };
}

async function localRuns(target: Target): Promise<Candidate[]> {
  const config = configFrom({ db: target.db });
  const location = parseStoreUrl(config.db);
  if (location.kind === 'sqlite' && (location.path === ':memory:' || !existsSync(location.path))) return [];
  const store = await openStore({ url: config.db });
  try {
    return (await store.runs.list({ limit: 30 })).map(runCandidate);
  } finally {
    await store.close();
  }
}

function fromServer(
  target: Target,
  read: (request: <T>(path: string) => Promise<T>) => Promise<Candidate[]>,
): Promise<readonly Candidate[]> {
  if (target.server === undefined) return Promise.resolve([]);
  const client = createApiClient(target.server, target.token ?? configFrom({}).token);
  return bounded(read((path) => client.request('GET', path)));
}

/** `work`'s candidates, or none when it fails or takes longer than SOURCE_TIMEOUT_MS. */
function bounded(work: Promise<readonly Candidate[]>): Promise<readonly Candidate[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<readonly Candidate[]>((resolve) => {
    timer = setTimeout(() => resolve([]), SOURCE_TIMEOUT_MS);
  });
  return Promise.race([work.catch(() => []), timeout]).finally(() => clearTimeout(timer));
}
