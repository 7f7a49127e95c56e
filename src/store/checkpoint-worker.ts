/** The Checkpointer's thread: a PASSIVE checkpoint of the WAL every `intervalMs`, on its own connection. */
import { workerData } from 'node:worker_threads';
import { openDatabase } from './db.js';

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
// Checkpoints read each page once, from the WAL: no private page cache worth keeping.
const db = openDatabase(path, { busyTimeoutMs: 0 });
db.pragma('cache_size = -512');
setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy (another checkpoint is running): the next tick tries again.
  }
}, intervalMs);
