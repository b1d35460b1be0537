/**
 * The thread of `createWalCheckpointer`: its own connection to the database file, which copies
 * the WAL back into the file (`wal_checkpoint(PASSIVE)`: never waits for, nor blocks, a writer
 * or a reader) each time it is asked, and answers with SQLite's [busy, log, checkpointed].
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, busyTimeoutMs } = workerData as { readonly path: string; readonly busyTimeoutMs: number };
const db = new Database(path, { fileMustExist: true, timeout: busyTimeoutMs });

parentPort?.on('message', () => {
  const [result] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
  parentPort?.postMessage(result);
});
