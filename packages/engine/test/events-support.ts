import assert from 'node:assert/strict';
import {
  buildPipelineRunFinished,
  buildPipelineRunQueued,
  buildPipelineRunStarted,
  buildTaskRunFinished,
  buildTaskRunStarted,
  toOutboxEvent,
} from '../src/events/builders.js';
import { parseIncomingCdevent } from '../src/events/incoming.js';
import { INBOX_RECLAIM_AFTER_MS, type InboxRecord, type InboxStore, type NewOutboxEvent } from '../src/store/types.js';
import { startReceiver, type ReceivedRequest, type TestReceiver } from './events-test-server.js';

/** Shared pieces of the events tests: the events of a run, a deduplicating receiver, waits. */

/** The five events of one run with one task run, chained by links, as the engine writes them. */
export function runEvents(runId: string, t0: number): NewOutboxEvent[] {
  const base = { engineUrl: 'http://127.0.0.1:8080', workflow: 'wf', runId, chainId: `chain-${runId}` };
  const queued = buildPipelineRunQueued({ ...base, timestamp: t0 });
  const started = buildPipelineRunStarted({ ...base, timestamp: t0 + 1, previousEventId: queued.context.id });
  const task = { ...base, taskRunId: `${runId}-t1`, taskName: 'unit', parentEventId: started.context.id };
  const tStarted = buildTaskRunStarted({ ...task, timestamp: t0 + 2, previousEventId: started.context.id });
  const tFinished = buildTaskRunFinished({
    ...task,
    timestamp: t0 + 3,
    outcome: 'success',
    previousEventId: tStarted.context.id,
  });
  const finished = buildPipelineRunFinished({
    ...base,
    timestamp: t0 + 4,
    outcome: 'success',
    previousEventId: tFinished.context.id,
  });
  return [queued, started, tStarted, tFinished, finished].map((e) => toOutboxEvent(e, runId));
}

/** Interleave several runs' events, as concurrent runs write them. */
export function interleave(...runs: NewOutboxEvent[][]): NewOutboxEvent[] {
  const out: NewOutboxEvent[] = [];
  for (let i = 0; runs.some((r) => i < r.length); i++) for (const r of runs) if (i < r.length) out.push(r[i]!);
  return out;
}

/** The run an event received over HTTP belongs to (pipelinerun subject, or taskrun's pipelineRun). */
export function runOf(request: ReceivedRequest): string {
  const parsed = parseIncomingCdevent({ headers: request.headers, body: request.body });
  assert.ok(parsed.ok, `the sink sent an invalid event: ${JSON.stringify(parsed)}`);
  const content = parsed.event.subject.content as { pipelineRun?: { id: string } };
  return content.pipelineRun?.id ?? parsed.event.subject.id;
}

/** A receiver that dedups by ce-id and remembers the order in which it accepted events. */
export function acceptedIds(r: TestReceiver): {
  accepted: string[];
  duplicates: number;
  install(decide?: (req: ReceivedRequest) => number): void;
} {
  const state = {
    accepted: [] as string[],
    duplicates: 0,
    install(decide: (req: ReceivedRequest) => number = () => 200) {
      r.respond = (req) => {
        const status = decide(req);
        if (status >= 200 && status < 300) {
          const id = String(req.headers['ce-id']);
          if (state.accepted.includes(id)) state.duplicates++;
          else state.accepted.push(id);
        }
        return { status, body: status >= 300 ? 'not now' : '' };
      };
    },
  };
  state.install();
  return state;
}

export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

export async function freePort(): Promise<number> {
  const r = await startReceiver();
  await r.close();
  return r.port;
}

export function assertInOrderPerRun(accepted: readonly string[], written: readonly NewOutboxEvent[]): void {
  const byRun = new Map<string, string[]>();
  for (const e of written) byRun.set(e.runId!, [...(byRun.get(e.runId!) ?? []), e.id]);
  const runOfId = new Map(written.map((e) => [e.id, e.runId!]));
  for (const [runId, ids] of byRun) {
    assert.deepEqual(
      accepted.filter((id) => runOfId.get(id) === runId),
      ids,
      `events of ${runId} in written order`,
    );
  }
}

/** An in-memory `InboxStore` (the same contract as the store's, checked in events-store.test.ts). */
export function memoryInbox(): InboxStore & { readonly size: () => number } {
  const seen = new Map<string, InboxRecord>();
  // JSON keeps the pair unambiguous whatever characters the source or id hold.
  const keyOf = (source: string, id: string): string => JSON.stringify([source, id]);
  return {
    recordIfNew(source, id, type, at) {
      const key = keyOf(source, id);
      const previous = seen.get(key);
      if (
        previous !== undefined &&
        (previous.processedAt !== null || at - previous.receivedAt < INBOX_RECLAIM_AFTER_MS)
      ) {
        return Promise.resolve(false);
      }
      seen.set(key, { source, id, type, receivedAt: at, processedAt: null, runIds: [] });
      return Promise.resolve(true);
    },
    markProcessed(source, id, runIds, at) {
      const key = keyOf(source, id);
      const previous = seen.get(key);
      if (previous !== undefined) seen.set(key, { ...previous, processedAt: at, runIds: [...runIds] });
      return Promise.resolve();
    },
    get(source, id) {
      return Promise.resolve(seen.get(keyOf(source, id)));
    },
    forget(source, id) {
      if (seen.get(keyOf(source, id))?.processedAt === null) seen.delete(keyOf(source, id));
      return Promise.resolve();
    },
    size: () => seen.size,
  };
}
