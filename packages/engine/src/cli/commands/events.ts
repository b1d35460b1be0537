import type { Command } from 'commander';
import type { DeliveryState } from '../../store/types.js';
import { print } from '../output.js';
import { withStore } from '../with-store.js';

interface Flags {
  db?: string;
  json?: boolean;
  run?: string;
  sink?: string;
  state?: DeliveryState;
  event?: string;
  limit: string;
}

/** `pilotage events list|redeliver`: the CDEvents outbox and its delivery state per sink. */
export function registerEvents(program: Command): void {
  const events = program.command('events').description('CDEvents emitted by runs, and their delivery');
  events
    .command('list')
    .description('emitted events (with --run), or deliveries per sink and state')
    .option('--run <id>', 'the events of one run, in order')
    .option('--sink <name>', 'deliveries to this sink')
    .option('--state <state>', 'deliveries in this state: pending, delivered, dead')
    .option('--limit <n>', 'how many', '100')
    .option('--db <path|url>', 'store')
    .option('--json', 'JSON output')
    .action((flags: Flags) =>
      withStore(flags, async (store) => {
        if (flags.run) {
          const rows = await store.outbox.listByRun(flags.run);
          for (const row of rows) {
            print(flags.json ? row : `${new Date(row.createdAt).toISOString()}  ${row.type}  ${row.id}`);
          }
          if (!flags.json && rows.length === 0) print('no events for that run');
          return;
        }
        const rows = await store.deliveries.list({
          ...(flags.sink ? { sink: flags.sink } : {}),
          ...(flags.state ? { state: flags.state } : {}),
          limit: Number(flags.limit),
        });
        if (!flags.json && rows.length === 0) print('no deliveries (no sink configured, or nothing emitted yet)');
        for (const row of rows) {
          print(
            flags.json
              ? row
              : `${row.state.padEnd(9)} ${row.sink}  ${row.type}  ${row.eventId}  attempts ${row.attempts}${row.lastError ? `  last error: ${row.lastError}` : ''}`,
          );
        }
      }),
    );
  events
    .command('redeliver')
    .description('send dead-lettered events again')
    .option('--sink <name>', 'only this sink')
    .option('--event <id>', 'only this event')
    .option('--db <path|url>', 'store')
    .action((flags: Flags) =>
      withStore(flags, async (store) => {
        const count = await store.deliveries.redeliver(
          { ...(flags.sink ? { sink: flags.sink } : {}), ...(flags.event ? { eventId: flags.event } : {}) },
          Date.now(),
        );
        print(`${count} deliver${count === 1 ? 'y' : 'ies'} queued again; a running engine sends them`);
      }),
    );
}
