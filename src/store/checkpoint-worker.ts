/**
 * The Checkpointer's thread, on its own connection: a PASSIVE checkpoint of the WAL every
 * `intervalMs`, and between them the live view's counts (queue depths, campaign progress) when the
 * daemon asks, so a large outbox never stalls the claim loop while `notify top` is open. One thread
 * for both: each thread costs about 10 MB of RSS.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from './index.js';
import { PROVIDERS } from '../core/types.js';
import type { StatusCounts, StatusRequest } from './checkpointer.js';

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const clock = { t: Date.now(), now() { return this.t; } };

// Not a top-level await: the bundled executable runs this file as a CommonJS script (src/entry-worker.ts).
void (async () => {
  const store = await openStore(path, clock, { busyTimeoutMs: 0 });
  // Checkpoints read each page once, from the WAL; counts read index pages once a second, which the
  // OS's page cache serves as well as a private cache would.
  store.db.pragma('cache_size = -2048');
  setInterval(() => {
    try {
      store.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy (another checkpoint is running): the next tick tries again.
    }
  }, intervalMs);
  parentPort!.on('message', async (m: StatusRequest) => {
    clock.t = m.now;
    let reply: StatusCounts;
    try {
      const [depths, campaigns] = await Promise.all([store.outbox.depths(PROVIDERS), store.notifications.progress()]);
      reply = { id: m.id, depths, campaigns };
    } catch (err) {
      reply = { id: m.id, error: (err as Error).message };
    }
    parentPort!.postMessage(reply);
  });
})();
