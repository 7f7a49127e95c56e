/**
 * WAL checkpoints on a worker thread. SQLite's automatic checkpoint runs inside whichever COMMIT
 * pushes the WAL past 1,000 pages: that commit copies the pages into the database file and fsyncs it,
 * with the daemon's event loop blocked all the while (about a sixth of a real-time send's cost). The
 * daemon turns that off on its connection and this worker checkpoints on its own connection instead,
 * PASSIVE (never waiting on, nor blocking, the writer), a few times a second.
 *
 * Where no worker can start, or the worker dies, the connection keeps or gets back SQLite's automatic
 * checkpoints.
 */
import { Worker } from 'node:worker_threads';
import type { Database } from './db.js';
import { isBundle, workerCode } from '../sea.js';

/** SQLite's default wal_autocheckpoint, restored when the worker is gone. */
const AUTO_PAGES = 1000;

export class Checkpointer {
  private worker: Worker | undefined;
  private online = false;
  private closing = false;
  private failed = false;

  /**
   * `onFallBack` hears why checkpoints went back to this connection's commits (the worker could not
   * start, failed or exited); not called for close().
   */
  constructor(private db: Database, path: string, options: { intervalMs?: number; onFallBack?: (reason: string) => void } = {}) {
    const intervalMs = options.intervalMs ?? 250;
    const fail = (reason: string) => {
      if (this.closing || this.failed) return;
      this.failed = true;
      this.fallBack();
      options.onFallBack?.(reason);
    };
    try {
      const options = { workerData: { kind: 'checkpoint', path, intervalMs }, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 } };
      // The bundled executable runs the workers' bundle from memory (src/entry-worker.ts).
      this.worker = isBundle()
        ? new Worker(workerCode('worker.js'), { ...options, eval: true })
        : new Worker(new URL('./checkpoint-worker.js', import.meta.url), options);
    } catch (err) {
      fail((err as Error).message);
      return;
    }
    this.worker.unref();
    this.worker.once('online', () => {
      // Closed or failed before the thread came up (its 'online' can arrive after a quick close).
      if (this.closing || this.failed || !this.db.open) return;
      this.online = true;
      this.db.pragma('wal_autocheckpoint = 0');
    });
    this.worker.once('error', (err) => fail(err.message));
    this.worker.once('exit', (code) => fail(`the checkpoint thread exited (code ${code})`));
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
    this.closing = true;
    const worker = this.worker;
    this.fallBack();
    await worker?.terminate();
  }
}
