import type { Cron } from 'croner';
import { croner } from '../plan/on-first-use.js';
import { messageOf } from '../domain/errors.js';
import type { Plan, PlanTrigger } from '../plan/types.js';
import type { Store } from '../store/types.js';
import type { WorkflowRunStarter } from './workflow-run-starter.js';

/** Starts runs of stored workflows on their `cron` triggers. */
export interface CronScheduler {
  /** Load the schedules and start ticking (and polling for workflow changes). */
  start(): Promise<void>;
  /** Re-read the workflows now (applied, enabled or disabled ones); the poll does it anyway. */
  reload(): Promise<void>;
  /** Stop the timers and wait for ticks being fired. Safe to repeat. */
  stop(): Promise<void>;
  /** The schedules loaded now, for logs and tests. */
  schedules(): { workflow: string; triggerIndex: number; schedule: string; timezone: string }[];
}

/** Dependencies and knobs of the scheduler. */
export interface CronSchedulerDeps {
  readonly store: Pick<Store, 'workflows' | 'cronClaims'>;
  readonly starter: WorkflowRunStarter;
  /** who claims ticks (config.engineId): recorded with each claim */
  readonly engineId: string;
  /** how often the workflow list is read again, ms (default 5000) */
  readonly pollMs?: number;
  /**
   * on `start()`, the latest tick of each schedule that passed at most this long ago is still
   * fired (a restart in the middle of a tick fires it once; the claim stops a duplicate); ms
   * (default 60000; 0: no catch-up)
   */
  readonly catchUpMs?: number;
  /** while running, a tick found late (a paused VM, a slow store) still fires up to this late, ms (default 60000) */
  readonly maxLatenessMs?: number;
  /** claims of ticks older than this are removed, ms (default 7 days) */
  readonly keepClaimsMs?: number;
  readonly clock?: () => number;
  readonly log?: { info(message: string): void; warn(message: string): void };
}

interface Entry {
  readonly key: string;
  readonly workflow: string;
  readonly triggerIndex: number;
  readonly schedule: string;
  readonly timezone: string;
  readonly cron: Cron;
  /** the last tick handled (fired, claimed elsewhere or skipped), epoch ms */
  lastTick: number;
}

/**
 * The cron scheduler, time-zone aware (each trigger's `timezone`, default UTC), using croner only
 * to compute ticks. Every tick T of (workflow, trigger) is claimed in the store with
 * insert-if-absent before its run starts, so across restarts and replicas sharing a store a tick
 * starts one run. Missed ticks are not replayed: after a pause only the latest one fires, and
 * only when it is at most `maxLatenessMs` late (`catchUpMs` at start). Runs get `{}` as their data (the workflow's input
 * defaults apply) and trigger `{kind: 'cron', by: schedule, details: {tick, trigger, timezone}}`.
 */
export function createCronScheduler(deps: CronSchedulerDeps): CronScheduler {
  const clock = deps.clock ?? Date.now;
  const pollMs = deps.pollMs ?? 5000;
  const catchUpMs = deps.catchUpMs ?? 60_000;
  const maxLatenessMs = deps.maxLatenessMs ?? 60_000;
  const keepClaimsMs = deps.keepClaimsMs ?? 7 * 24 * 60 * 60 * 1000;
  const log = deps.log ?? { info: () => undefined, warn: () => undefined };
  const entries = new Map<string, Entry>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let pumping: Promise<void> = Promise.resolve();
  let lastPoll = 0;
  let lastPurge = 0;

  const load = async (initial: boolean): Promise<void> => {
    const now = clock();
    const wanted = new Map<string, Omit<Entry, 'lastTick' | 'cron'> & { cron?: Cron }>();
    for (const workflow of await deps.store.workflows.list()) {
      if (!workflow.enabled) continue;
      const version = await deps.store.workflows.getVersion(workflow.name, workflow.latestVersion);
      const triggers = ((version?.plan as unknown as Plan | undefined)?.triggers ?? []) as readonly PlanTrigger[];
      for (const [triggerIndex, trigger] of triggers.entries()) {
        if (trigger.kind !== 'cron') continue;
        const timezone = trigger.timezone ?? 'UTC';
        const key = JSON.stringify([workflow.name, triggerIndex, trigger.schedule, timezone]);
        wanted.set(key, { key, workflow: workflow.name, triggerIndex, schedule: trigger.schedule, timezone });
      }
    }
    for (const key of entries.keys()) if (!wanted.has(key)) entries.delete(key);
    for (const [key, want] of wanted) {
      if (entries.has(key)) continue;
      let cron: Cron;
      try {
        cron = new (croner().Cron)(want.schedule, { timezone: want.timezone, paused: true });
        cron.nextRun(new Date(now));
      } catch (error) {
        log.warn(
          `cron: workflow ${want.workflow} trigger ${want.triggerIndex}: cannot schedule "${want.schedule}" (${want.timezone}): ${messageOf(error)}`,
        );
        continue;
      }
      // at start, the latest tick that passed within the catch-up window is still due (claimed)
      const previous = initial ? cron.previousRuns(1, new Date(now + 1))[0]?.getTime() : undefined;
      const lastTick = previous !== undefined && catchUpMs > 0 && now - previous <= catchUpMs ? previous - 1 : now;
      entries.set(key, { ...want, cron, lastTick });
      log.info(`cron: scheduled workflow ${want.workflow} "${want.schedule}" (${want.timezone})`);
    }
    lastPoll = now;
    if (now - lastPurge > 60 * 60 * 1000) {
      lastPurge = now;
      await deps.store.cronClaims.purge(now - keepClaimsMs);
    }
  };

  const fire = async (entry: Entry, tick: number): Promise<void> => {
    const claimed = await deps.store.cronClaims.claim({
      workflow: entry.workflow,
      triggerIndex: entry.triggerIndex,
      tickAt: tick,
      claimedBy: deps.engineId,
      claimedAt: clock(),
    });
    if (!claimed) return;
    const run = await deps.starter.start({
      workflow: entry.workflow,
      data: {},
      trigger: {
        kind: 'cron',
        by: entry.schedule,
        details: { tick: new Date(tick).toISOString(), trigger: entry.triggerIndex, timezone: entry.timezone },
      },
    });
    await deps.store.cronClaims.setRun(entry.workflow, entry.triggerIndex, tick, run.id);
    log.info(`cron: started run ${run.workflow} #${run.number} for the tick ${new Date(tick).toISOString()}`);
  };

  const pump = async (): Promise<void> => {
    if (stopped) return;
    try {
      if (clock() - lastPoll >= pollMs) await load(false);
    } catch (error) {
      log.warn(`cron: cannot read the workflows: ${messageOf(error)}`);
    }
    const now = clock();
    const firing: Promise<void>[] = [];
    for (const entry of entries.values()) {
      const due = entry.cron.previousRuns(1, new Date(now + 1))[0]?.getTime();
      if (due === undefined || due <= entry.lastTick) continue;
      entry.lastTick = due;
      if (now - due > Math.max(maxLatenessMs, catchUpMs)) {
        log.warn(
          `cron: workflow ${entry.workflow}: skipped the tick ${new Date(due).toISOString()}, found ${now - due}ms late`,
        );
        continue;
      }
      firing.push(
        fire(entry, due).catch((error: unknown) =>
          log.warn(
            `cron: workflow ${entry.workflow}: the tick ${new Date(due).toISOString()} started no run: ${messageOf(error)}`,
          ),
        ),
      );
    }
    await Promise.all(firing);
    if (stopped) return;
    const after = clock();
    let wait = Math.max(0, pollMs - (after - lastPoll));
    for (const entry of entries.values()) {
      const next = entry.cron.nextRun(new Date(Math.max(after, entry.lastTick)))?.getTime();
      if (next !== undefined) wait = Math.min(wait, Math.max(0, next - after));
    }
    // croner's ticks are whole seconds; a timer may fire a hair early, so aim just past the tick
    timer = setTimeout(() => {
      pumping = pump();
    }, wait + 5);
  };

  // wait until no pump is under way (one may start another through its timer meanwhile)
  const settle = async (): Promise<void> => {
    for (let current = pumping; ; current = pumping) {
      await current;
      if (current === pumping) return;
    }
  };

  return {
    async start() {
      if (!stopped) return;
      stopped = false;
      try {
        await load(true);
      } catch (error) {
        log.warn(`cron: cannot read the workflows: ${messageOf(error)}`);
      }
      pumping = pump();
      await pumping;
    },
    async reload() {
      await load(false);
      await settle();
      if (!stopped) {
        clearTimeout(timer);
        pumping = pump();
        await pumping;
      }
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await settle();
      entries.clear();
    },
    schedules() {
      return [...entries.values()].map((e) => ({
        workflow: e.workflow,
        triggerIndex: e.triggerIndex,
        schedule: e.schedule,
        timezone: e.timezone,
      }));
    },
  };
}
