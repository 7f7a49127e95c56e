/**
 * WAL checkpoints on a worker thread. SQLite's automatic checkpoint runs inside whichever COMMIT
 * pushes the WAL past 1,000 pages: that commit copies the pages into the database file and fsyncs it,
 * with the daemon's event loop blocked all the while (about a sixth of a real-time send's cost). The
 * daemon turns that off on its connection and this worker checkpoints on its own connection instead,
 * PASSIVE (never waiting on, nor blocking, the writer), a few times a second.
 *
 * Where no worker can start (the bundled executable has no module files for one), or the worker dies,
 * the connection keeps or gets back SQLite's automatic checkpoints.
 */
import { Worker } from 'node:worker_threads';
import type { Database } from './db.js';
import { isBundle } from '../sea.js';

/** SQLite's default wal_autocheckpoint, restored when the worker is gone. */
const AUTO_PAGES = 1000;

export class Checkpointer {
  private worker: Worker | undefined;
  private online = false;

  constructor(private db: Database, path: string, intervalMs = 250) {
    if (isBundle()) return;
    try {
      this.worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), {
        workerData: { path, intervalMs },
        resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
      });
    } catch {
      return;
    }
    this.worker.unref();
    this.worker.once('online', () => {
      this.online = true;
      this.db.pragma('wal_autocheckpoint = 0');
    });
    this.worker.once('error', () => this.fallBack());
    this.worker.once('exit', () => this.fallBack());
  }

  /** True while the worker checkpoints for this connection. */
  get active(): boolean {
    return this.online && this.worker !== undefined;
  }

  private fallBack(): void {
    this.worker = undefined;
    if (this.online && this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTO_PAGES}`);
    this.online = false;
  }

  /** Stops the worker; the connection checkpoints by itself again (and at close). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.fallBack();
    await worker?.terminate();
  }
}
