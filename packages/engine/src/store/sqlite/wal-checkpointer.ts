import type { Worker } from 'node:worker_threads';
import { messageOf } from '../../domain/errors.js';
import { startWorkerThread } from '../../worker-thread.js';

/**
 * Commits of one burst (commits with no pause of CHECKPOINT_THREAD_IDLE_MS between them) after
 * which the WAL is copied back on a thread of its own: a sustained load (about 1,000 sequential
 * steps). A shorter burst leaves the checkpoints to SQLite, in its commits, rather than pay for
 * starting the thread (~40 ms of CPU, bench/README.md "Session 12").
 */
export const CHECKPOINT_AFTER_COMMITS = 2000;
/** Between two checkpoints asked for while commits go on, at least, ms. */
export const CHECKPOINT_EVERY_MS = 250;
/**
 * The thread stops once fewer than CHECKPOINT_QUIET_COMMITS commits came in this long (its memory
 * goes back; a server's heartbeat still commits now and then), ms.
 */
export const CHECKPOINT_THREAD_IDLE_MS = 5000;
/** Commits per CHECKPOINT_THREAD_IDLE_MS under which the thread is idle. */
export const CHECKPOINT_QUIET_COMMITS = 8;

/** Copies a database file's WAL back into it on a thread, as commits grow it. */
export interface WalCheckpointer {
  /** A commit was made: the WAL may need copying back. Cheap: call it after every commit. */
  committed(): void;
  /** whether its thread runs now (it starts with a sustained load's first checkpoint, stops when idle) */
  readonly threadRunning: boolean;
  /** Stop its thread. Safe to repeat. */
  close(): Promise<void>;
}

export interface WalCheckpointerOptions {
  /** the database file (not `:memory:`) */
  readonly path: string;
  readonly busyTimeoutMs: number;
  readonly afterCommits?: number;
  readonly everyMs?: number;
  readonly idleMs?: number;
  /** told once when the thread fails: from then on, the connection's own checkpoints are left */
  readonly warn?: (message: string) => void;
  /** how a thread is started (default: the `wal-checkpoint-thread` module); tests stand one in */
  readonly startThread?: (workerData: CheckpointThreadData) => CheckpointThread;
}

/** What a checkpoint thread is started with: the database file and its busy timeout, ms. */
export interface CheckpointThreadData {
  readonly path: string;
  readonly busyTimeoutMs: number;
}

/** What the checkpointer uses of a `Worker`. */
export type CheckpointThread = Pick<Worker, 'postMessage' | 'terminate' | 'unref' | 'on'>;

function startCheckpointThread(workerData: CheckpointThreadData): CheckpointThread {
  return startWorkerThread(import.meta.url, 'wal-checkpoint-thread', {
    workerData,
    // it holds a connection and answers a message now and then: little memory
    resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 32, stackSizeMb: 1 },
  });
}

/**
 * Checkpoints of a WAL database made off the thread that commits. SQLite's own (every
 * `wal_autocheckpoint` pages, in the commit that crosses it) copy ~40 MB back and fsync in the
 * middle of one write of the engine's event loop: 30 ms, once in ~450 sequential steps. Here a
 * thread with its own connection copies it back (`wal_checkpoint(PASSIVE)`, which neither waits
 * for nor blocks the writer) at most every `everyMs` while commits go on, so the connection's own
 * threshold is not reached. The thread starts once a burst of commits reaches `afterCommits` (a
 * sustained load; a small `pilotage run` never starts it) and stops after `idleMs` with next to
 * no commits. If it fails, the connection's own checkpoints remain, as without it.
 */
export function createWalCheckpointer(options: WalCheckpointerOptions): WalCheckpointer {
  const afterCommits = options.afterCommits ?? CHECKPOINT_AFTER_COMMITS;
  const everyMs = options.everyMs ?? CHECKPOINT_EVERY_MS;
  const idleMs = options.idleMs ?? CHECKPOINT_THREAD_IDLE_MS;
  const startThread = options.startThread ?? startCheckpointThread;
  let worker: CheckpointThread | undefined;
  /** a checkpoint asked for and not answered yet */
  let asked = false;
  /** a look found a checkpoint under way: look again once it is answered */
  let lookedWhileAsked = false;
  /** the next look at the WAL, when commits came since the last */
  let look: NodeJS.Timeout | undefined;
  let idle: NodeJS.Timeout | undefined;
  /** commits since the last pause of `idleMs` */
  let burst = 0;
  let lastCommitAt = 0;
  /** commits since the last idle check */
  let sinceCheck = 0;
  let stopped = false;

  const stopThread = async (): Promise<void> => {
    const stopping = worker;
    worker = undefined;
    asked = false;
    if (stopping !== undefined) await stopping.terminate();
  };

  const thread = (): CheckpointThread => {
    if (worker !== undefined) return worker;
    const started = startThread({ path: options.path, busyTimeoutMs: options.busyTimeoutMs });
    // it never holds the process open: the store's close stops it
    started.unref();
    // Only the current thread's answer or exit settles the checkpoint asked for: a thread
    // stopped when idle may exit (or answer) after its successor was asked, and taking that
    // for the successor's answer let the idle stop end the successor before its first
    // checkpoint (the flaky "starts it again" test of sessions 14 and 15).
    started.on('message', () => {
      if (worker === started) settled();
    });
    started.on('error', (error) => {
      stopped = true;
      if (worker === started) worker = undefined;
      options.warn?.(
        `the WAL checkpoint thread of ${options.path} failed (${messageOf(error)}); SQLite checkpoints in the commits again`,
      );
    });
    started.on('exit', () => {
      if (worker !== started) return;
      worker = undefined;
      settled();
    });
    worker = started;
    return started;
  };

  /** The checkpoint asked for is over: if commits came meanwhile, look at the WAL again (nothing else would, if they stopped). */
  const settled = (): void => {
    asked = false;
    if (!lookedWhileAsked) return;
    lookedWhileAsked = false;
    scheduleLook();
  };

  const scheduleLook = (): void => {
    if (look !== undefined || stopped) return;
    look = setTimeout(lookNow, everyMs);
    look.unref();
  };

  const lookNow = (): void => {
    look = undefined;
    if (stopped) return;
    if (asked) {
      lookedWhileAsked = true;
      return;
    }
    if (worker === undefined && burst < afterCommits) return;
    asked = true;
    thread().postMessage('checkpoint');
    if (idle === undefined) {
      sinceCheck = 0;
      idle = setInterval(() => {
        const recent = sinceCheck;
        sinceCheck = 0;
        // never while a checkpoint is under way (a thread takes a while to start) or about to be asked
        if (asked || look !== undefined || recent >= CHECKPOINT_QUIET_COMMITS) return;
        clearInterval(idle);
        idle = undefined;
        burst = 0;
        void stopThread();
      }, idleMs);
      idle.unref();
    }
  };

  return {
    committed() {
      const now = Date.now();
      if (now - lastCommitAt >= idleMs) burst = 0;
      lastCommitAt = now;
      sinceCheck += 1;
      burst += 1;
      scheduleLook();
    },
    get threadRunning() {
      return worker !== undefined;
    },
    async close() {
      stopped = true;
      clearTimeout(look);
      clearInterval(idle);
      look = undefined;
      idle = undefined;
      await stopThread();
    },
  };
}
