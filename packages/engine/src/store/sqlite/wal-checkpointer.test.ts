import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { createWalCheckpointer, type CheckpointThread, type WalCheckpointer } from './wal-checkpointer.js';

/**
 * The WAL checkpoint thread, on real SQLite files with a real worker thread. The connection that
 * commits never checkpoints here (its own threshold is out of reach): the database file grows
 * only when the thread copies the WAL back.
 */

let dir: string;
before(() => (dir = mkdtempSync(join(tmpdir(), 'pilotage-wal-'))));
after(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));

/** A WAL database whose `write` commits 8 KiB at a time, telling each commit to `checkpointer`. */
function database(name: string): {
  path: string;
  write: (commits: number, checkpointer: WalCheckpointer) => void;
  close: () => void;
} {
  const path = join(dir, name);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 1000000');
  db.exec('create table items (body text not null)');
  const insert = db.prepare('insert into items (body) values (?)');
  return {
    path,
    write(commits, checkpointer) {
      for (let i = 0; i < commits; i++) {
        insert.run('x'.repeat(8192));
        checkpointer.committed();
      }
    },
    close: () => db.close(),
  };
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await delay(10);
  }
}

const fileSize = (path: string): number => statSync(path).size;

/** A checkpointer of `db` quick enough for a test: asked every 10 ms, idle after 100 ms. */
function quickCheckpointer(path: string, afterCommits: number): WalCheckpointer {
  return createWalCheckpointer({ path, busyTimeoutMs: 1000, afterCommits, everyMs: 10, idleMs: 100 });
}

/** A stand-in checkpoint thread, told by the test when to answer and to exit: races in a certain order. */
class StandIn extends EventEmitter {
  asked = 0;
  terminated = false;
  postMessage(): void {
    this.asked += 1;
  }
  terminate(): Promise<number> {
    this.terminated = true;
    return Promise.resolve(0);
  }
  unref(): void {}
}

/** A checkpointer whose threads are stand-ins, listed in `threads` as they start; quick timings. */
function standInCheckpointer(name: string): { checkpointer: WalCheckpointer; threads: StandIn[] } {
  const threads: StandIn[] = [];
  const checkpointer = createWalCheckpointer({
    path: join(dir, name),
    busyTimeoutMs: 1000,
    afterCommits: 4,
    everyMs: 5,
    idleMs: 30,
    startThread: () => {
      const thread = new StandIn();
      threads.push(thread);
      return thread as unknown as CheckpointThread;
    },
  });
  return { checkpointer, threads };
}

describe('WAL checkpointer', () => {
  it('copies the WAL back on its thread after enough commits, not before', async () => {
    const db = database('grows.db');
    const checkpointer = createWalCheckpointer({
      path: db.path,
      busyTimeoutMs: 1000,
      afterCommits: 16,
      everyMs: 10,
    });
    try {
      const empty = fileSize(db.path);
      db.write(8, checkpointer); // fewer commits than it waits for
      await delay(100);
      assert.equal(checkpointer.threadRunning, false);
      assert.equal(fileSize(db.path), empty, 'nothing copied back yet');
      db.write(64, checkpointer);
      await until(() => fileSize(db.path) > 64 * 8192, 'the database file holds the rows');
      assert.equal(checkpointer.threadRunning, true);
      // later commits are copied back too, the WAL file staying as it is
      const before = fileSize(db.path);
      db.write(64, checkpointer);
      await until(() => fileSize(db.path) > before + 256 * 1024, 'the later rows are copied back');
    } finally {
      await checkpointer.close();
      db.close();
    }
    assert.equal(checkpointer.threadRunning, false, 'close stops the thread');
  });

  it('stops its thread when commits (nearly) stop, and starts it again with the next ones', async () => {
    const db = database('idle.db');
    const checkpointer = quickCheckpointer(db.path, 8);
    try {
      db.write(16, checkpointer);
      await until(() => checkpointer.threadRunning, 'the thread runs');
      // a commit now and then (a server's heartbeat) does not keep it
      const trickle = setInterval(() => db.write(1, checkpointer), 40);
      try {
        await until(() => !checkpointer.threadRunning, 'the idle thread stopped');
      } finally {
        clearInterval(trickle);
      }
      const before = fileSize(db.path);
      db.write(16, checkpointer);
      await until(() => fileSize(db.path) > before, 'the new rows are copied back by a new thread');
    } finally {
      await checkpointer.close();
      db.close();
    }
  });

  it('a stopped thread that exits (or answers) after its successor was asked does not settle the successor (stand-in threads)', async () => {
    const { checkpointer, threads } = standInCheckpointer('stand-in.db');
    const commit = (count: number): void => {
      for (let i = 0; i < count; i++) checkpointer.committed();
    };
    try {
      commit(8);
      await until(() => threads[0]?.asked === 1, 'the first thread is asked');
      threads[0]!.emit('message', { busy: 0, log: 8, checkpointed: 8 });
      await until(() => threads[0]!.terminated, 'the idle first thread is stopped');
      // a new burst starts a second thread before the first has exited
      commit(8);
      await until(() => threads[1]?.asked === 1, 'the second thread is asked');
      threads[0]!.emit('message', { busy: 0, log: 0, checkpointed: 0 });
      threads[0]!.emit('exit', 0);
      // several idle periods pass: the second, still unanswered, must not be stopped
      await delay(150);
      assert.equal(threads[1]!.terminated, false, 'the second thread was stopped before it answered');
      assert.equal(checkpointer.threadRunning, true);
      threads[1]!.emit('message', { busy: 0, log: 8, checkpointed: 8 });
      await until(() => threads[1]!.terminated, 'the answered, idle second thread is stopped');
    } finally {
      await checkpointer.close();
    }
  });

  it('commits made while a checkpoint runs are looked at once it is answered, with no later commit (stand-in threads)', async () => {
    const { checkpointer, threads } = standInCheckpointer('while-asked.db');
    try {
      for (let i = 0; i < 8; i++) checkpointer.committed();
      await until(() => threads[0]?.asked === 1, 'the thread is asked');
      // more commits while it runs, then none
      for (let i = 0; i < 8; i++) checkpointer.committed();
      await delay(50);
      assert.equal(threads[0]!.asked, 1, 'not asked twice at once');
      threads[0]!.emit('message', { busy: 0, log: 8, checkpointed: 8 });
      await until(() => threads[0]!.asked === 2, 'asked again for the commits made meanwhile');
    } finally {
      await checkpointer.close();
    }
  });

  it('short bursts apart from each other never start it', async () => {
    const db = database('bursts.db');
    const checkpointer = quickCheckpointer(db.path, 8);
    try {
      for (let i = 0; i < 5; i++) {
        db.write(6, checkpointer);
        await delay(150);
        assert.equal(checkpointer.threadRunning, false);
      }
      // 30 commits in all, never 8 in one burst; 8 at once start it
      db.write(8, checkpointer);
      await until(() => checkpointer.threadRunning, 'a burst of 8 starts the thread');
    } finally {
      await checkpointer.close();
      db.close();
    }
  });

  it('warns once when its thread fails, then leaves checkpoints to the connection', async () => {
    const warnings: string[] = [];
    const missing = join(dir, 'missing.db');
    const checkpointer = createWalCheckpointer({
      path: missing,
      busyTimeoutMs: 1000,
      afterCommits: 0,
      everyMs: 10,
      warn: (message) => warnings.push(message),
    });
    try {
      checkpointer.committed();
      await until(() => warnings.length > 0, 'the failure is told');
      assert.match(warnings[0]!, /WAL checkpoint thread of .*missing\.db failed/);
      assert.equal(checkpointer.threadRunning, false);
      checkpointer.committed();
      await delay(100);
      assert.equal(warnings.length, 1);
      assert.equal(checkpointer.threadRunning, false, 'no thread is started again');
    } finally {
      await checkpointer.close();
    }
  });
});
