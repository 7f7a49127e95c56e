/**
 * Runs the live view's database counts in a worker thread on its own read-only connection, so a
 * large outbox never stalls the claim loop while `notify top` is open.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../store/index.js';
import { PROVIDERS } from '../core/types.js';

const clock = { t: Date.now(), now() { return this.t; } };
const store = await openStore(workerData.path as string, clock, { readonly: true });
// Counting reads pages once a second: the OS's page cache serves them as well as a private one.
store.db.pragma('cache_size = -2048');

parentPort!.on('message', async (message: { now: number }) => {
  clock.t = message.now;
  try {
    const [depths, campaigns] = await Promise.all([store.outbox.depths(PROVIDERS), store.notifications.progress()]);
    parentPort!.postMessage({ depths, campaigns });
  } catch (err) {
    parentPort!.postMessage({ error: (err as Error).message });
  }
});
