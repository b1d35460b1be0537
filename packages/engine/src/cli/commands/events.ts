import { routes } from '@pilotage/api';
import type { Command } from 'commander';
import { parseDurationMs } from '../../domain/duration.js';
import { ValidationError } from '../../domain/errors.js';
import { deliverySettings } from '../../events/delivery-backoff.js';
import { startDeliveryWorker } from '../../events/delivery-worker.js';
import { localLeaseIdentity } from '../../events/sink-lease.js';
import { sinkFromTarget } from '../../events/sinks/sink-from-target.js';
import { openStore } from '../../store/open-store.js';
import type { DeliveryFilter, DeliveryRecord, DeliveryState, OutboxRecord, Store } from '../../store/types.js';
import type { ApiClient } from '../api-client.js';
import { EXIT, print, reportError } from '../output.js';
import { configFrom } from '../runtime-flags.js';
import { connectionOptions, serverGiven, withServer, type RemoteFlags } from '../with-server.js';
import { withStore } from '../with-store.js';
import { repeated } from '../repeated-option.js';

interface Flags extends RemoteFlags {
  db?: string;
  run?: string;
  sink?: string;
  state?: DeliveryState;
  event?: string;
  type?: string;
  limit: string;
  cursor?: string;
}

interface DeliverFlags {
  db?: string;
  json?: boolean;
  events: string[];
  timeout: string;
}

/** One event of `GET /v1/runs/:id/cdevents`. */
interface RunEvent {
  readonly seq: number;
  readonly runSeq: number | null;
  readonly id: string;
  readonly type: string;
  readonly createdAt: number;
  readonly event: unknown;
  readonly deliveries: Omit<DeliveryRecord, 'eventSeq' | 'eventId' | 'runId' | 'type'>[];
}

const STATES: readonly DeliveryState[] = ['pending', 'delivered', 'dead'];
const SERVER_HELP = 'ask this server instead of a local store (PILOTAGE_SERVER)';

/**
 * `pilotage events list|redeliver|deliver`: the CDEvents outbox and its delivery state per sink.
 * `list` and `redeliver` read the local store (`--db`, PILOTAGE_DB) or, with `--server` (or
 * PILOTAGE_SERVER set and no `--db`), a server's API with `--token`. `deliver` sends what is
 * pending to the given sinks from the local store (after `pilotage run` was killed, say).
 */
export function registerEvents(program: Command): void {
  const events = program.command('events').description('CDEvents emitted by runs, and their delivery');
  const list = events
    .command('list')
    .description('the events of a run (--run), or deliveries per event and sink, newest first')
    .option('--run <id>', 'the events of one run, in order, with their delivery state')
    .option('--sink <name>', 'deliveries to this sink')
    .option('--state <state>', 'deliveries in this state: pending, delivered, dead')
    .option('--event <id>', 'deliveries of this event (its context.id)')
    .option('--type <pattern>', 'events of this type: exact, unversioned (any version) or a * glob')
    .option('--limit <n>', 'how many deliveries (at most 500 from a server)', '100')
    .option('--cursor <cursor>', 'the next page (printed after a full page from a server)')
    .option('--db <path|url>', 'local store (PILOTAGE_DB)');
  connectionOptions(list, 'read', SERVER_HELP)
    .option('--json', 'JSON output, one object per line')
    .action(async (flags: Flags) => {
      let limit: number;
      try {
        limit = checkListFlags(flags);
      } catch (error) {
        process.exitCode = reportError(error, flags.json === true);
        return;
      }
      if (serverGiven(flags)) {
        await withServer(flags, async (client) => {
          if (flags.run) printRunEvents(await remoteRunEvents(client, flags.run), flags);
          else await listRemote(client, flags, limit);
        });
        return;
      }
      await withStore(flags, async (store) => {
        if (flags.run) printRunEvents(await localRunEvents(store, flags.run), flags);
        else printDeliveries(await store.deliveries.list({ ...filterOf(flags), limit }), flags);
      });
    });
  const redeliver = events
    .command('redeliver')
    .description('send dead-lettered deliveries again (all of them, or those matching the options)')
    .option('--sink <name>', 'only this sink')
    .option('--run <id>', "only this run's events")
    .option('--event <id>', 'only this event')
    .option('--type <pattern>', 'only events of this type (exact, unversioned or a * glob)')
    .option('--db <path|url>', 'local store (PILOTAGE_DB); a running engine on it sends them');
  connectionOptions(redeliver, 'admin', SERVER_HELP)
    .option('--json', 'JSON output')
    .action(async (flags: Flags) => {
      const filter = filterOf(flags);
      const report = (count: number, where: string): void =>
        print(
          flags.json ? { redelivered: count } : `${count} deliver${count === 1 ? 'y' : 'ies'} queued again; ${where}`,
        );
      if (serverGiven(flags)) {
        await withServer(flags, async (client) => {
          const body = {
            ...(filter.sink ? { sink: filter.sink } : {}),
            ...(filter.runId ? { runId: filter.runId } : {}),
            ...(filter.eventId ? { eventId: filter.eventId } : {}),
            ...(filter.type ? { type: filter.type } : {}),
          };
          const answer = await client.call(routes.redeliver, { body });
          report(answer.redelivered, 'the server sends them');
        });
        return;
      }
      await withStore(flags, async (store) => {
        report(await store.deliveries.redeliver(filter, Date.now()), 'a running engine on this store sends them');
      });
    });
  events
    .command('deliver')
    .description('send the pending deliveries of the local store to sinks now, then exit (1 if some remain)')
    .option(
      '--events <stdout|file.jsonl|url>',
      'a sink, named as with pilotage run --events (repeatable)',
      repeated,
      [],
    )
    .option('--timeout <duration>', 'give up after this long (retries follow the usual backoff)', '30s')
    .option('--db <path|url>', 'local store (PILOTAGE_DB)')
    .option('--json', 'JSON output')
    .action(async (flags: DeliverFlags) => {
      process.exitCode = await deliverCommand(flags);
    });
}

/** Check `list`'s flags; returns the limit. Throws ValidationError naming the flag. */
function checkListFlags(flags: Flags): number {
  if (flags.state !== undefined && !STATES.includes(flags.state)) {
    throw new ValidationError(`--state must be pending, delivered or dead, got "${flags.state}"`);
  }
  const limit = Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ValidationError(`--limit must be a whole number ≥ 1, got "${flags.limit}"`);
  }
  return limit;
}

function filterOf(flags: Flags): DeliveryFilter {
  return {
    ...(flags.sink ? { sink: flags.sink } : {}),
    ...(flags.state ? { state: flags.state } : {}),
    ...(flags.run ? { runId: flags.run } : {}),
    ...(flags.event ? { eventId: flags.event } : {}),
    ...(flags.type ? { type: flags.type } : {}),
  };
}

async function listRemote(client: ApiClient, flags: Flags, limit: number): Promise<void> {
  const filter = filterOf(flags);
  const page = await client.call(routes.listDeliveries, {
    query: {
      ...filter,
      ...(filter.state === undefined ? {} : { state: filter.state as 'pending' | 'delivered' | 'dead' }),
      limit: Math.min(limit, 500),
      cursor: flags.cursor,
    },
  });
  printDeliveries(page.deliveries, flags);
  if (page.nextCursor !== null) {
    if (flags.json) print({ nextCursor: page.nextCursor });
    else process.stderr.write(`more: add --cursor ${page.nextCursor}\n`);
  }
}

function printDeliveries(rows: readonly DeliveryRecord[], flags: Flags): void {
  if (!flags.json && rows.length === 0) print('no deliveries (no sink configured, or nothing matches)');
  for (const row of rows) {
    print(
      flags.json
        ? row
        : `${row.state.padEnd(9)} ${row.sink}  ${row.type}  ${row.eventId}  attempts ${row.attempts}${row.lastError ? `  last error: ${row.lastError}` : ''}`,
    );
  }
}

async function remoteRunEvents(client: ApiClient, runId: string): Promise<RunEvent[]> {
  const answer = await client.call(routes.runCdevents, { params: { id: runId } });
  return answer.events;
}

async function localRunEvents(store: Store, runId: string): Promise<RunEvent[]> {
  const events: OutboxRecord[] = await store.outbox.listByRun(runId);
  const deliveries = await store.deliveries.list({ runId, limit: 100_000 });
  return events.map((e) => ({
    seq: e.seq,
    runSeq: e.runSeq,
    id: e.id,
    type: e.type,
    createdAt: e.createdAt,
    event: e.payload,
    deliveries: deliveries
      .filter((d) => d.eventSeq === e.seq)
      .map(({ sink, state, attempts, lastError, nextAttemptAt, deliveredAt, firstFailedAt }) => ({
        sink,
        state,
        attempts,
        lastError,
        nextAttemptAt,
        deliveredAt,
        firstFailedAt,
      })),
  }));
}

function printRunEvents(events: readonly RunEvent[], flags: Flags): void {
  if (!flags.json && events.length === 0) print('no events for that run');
  for (const e of events) {
    if (flags.json) {
      print(e);
      continue;
    }
    const states = e.deliveries.map((d) => `${d.sink}: ${d.state}`).join(', ');
    print(`${new Date(e.createdAt).toISOString()}  ${e.type}  ${e.id}${states ? `  (${states})` : ''}`);
  }
}

async function deliverCommand(flags: DeliverFlags): Promise<number> {
  let store: Store | undefined;
  try {
    const timeoutMs = parseDurationMs(flags.timeout);
    const config = configFrom({ db: flags.db, eventSinks: flags.events });
    if (config.eventSinks.length === 0) {
      throw new ValidationError('name at least one sink: --events URL|FILE|stdout (or PILOTAGE_EVENT_SINKS)');
    }
    const sinks = config.eventSinks.map((target) => sinkFromTarget(target));
    store = await openStore({ url: config.db });
    const worker = startDeliveryWorker({
      deliveries: store.deliveries,
      sinks,
      lease: { store: store.sinkLeases, ...localLeaseIdentity(config.engineId) },
      ...deliverySettings(config),
    });
    const { pending } = await worker.drain(timeoutMs);
    await worker.stop();
    if (flags.json) print({ pending });
    else if (pending === 0) print('nothing pending: every event is delivered (or dead, see --state dead)');
    else process.stderr.write(`${pending} deliveries still pending (see pilotage events list --state pending)\n`);
    return pending === 0 ? EXIT.ok : EXIT.failed;
  } catch (error) {
    return reportError(error, flags.json === true);
  } finally {
    await store?.close();
  }
}
