/**
 * WAL checkpoints on a worker thread. SQLite's automatic checkpoint runs inside whichever COMMIT
 * pushes the WAL past 1,000 pages: that commit copies the pages into the database file and fsyncs it,
 * with the daemon's event loop blocked all the while (about a sixth of a real-time send's cost). The
 * daemon turns that off on its connection and this worker checkpoints on its own connection instead,
 * PASSIVE (never waiting on, nor blocking, the writer), a few times a second.
 *
 * Where no worker can start, or the worker dies, the connection keeps or gets back SQLite's automatic
 * checkpoints.
 *
 * The same thread answers the live view's counts (`counts()`), so a daemon runs one background
 * thread, not two.
 */
import { Worker } from 'node:worker_threads';
import type { Database } from './db.js';
import type { LaneDepth } from './outbox.js';
import type { CampaignProgress } from './notifications.js';
import { isBundle, workerCode } from '../sea.js';

export interface StatusRequest { id: number; now: number }
/** The live view's database figures. */
export interface LiveCounts { depths: LaneDepth[]; campaigns: CampaignProgress[] }
export type StatusCounts = (LiveCounts & { id: number; error?: undefined }) | { id: number; error: string };

/** SQLite's default wal_autocheckpoint, restored when the worker is gone. */
const AUTO_PAGES = 1000;

export class Checkpointer {
  private worker: Worker | undefined;
  private online = false;
  private closing = false;
  private failed = false;
  private nextId = 0;
  private waiting = new Map<number, { resolve: (c: LiveCounts) => void; reject: (e: Error) => void }>();

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
      // Small limits: it holds a few counts, and its heap would otherwise grow like the daemon's.
      const options = { workerData: { kind: 'checkpoint', path, intervalMs }, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 } };
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
    this.worker.on('message', (m: StatusCounts) => {
      const waiter = this.waiting.get(m.id);
      if (!waiter) return;
      this.waiting.delete(m.id);
      if (m.error !== undefined) waiter.reject(new Error(m.error));
      else waiter.resolve({ depths: m.depths, campaigns: m.campaigns });
    });
    this.worker.once('error', (err) => fail(err.message));
    this.worker.once('exit', (code) => fail(`the checkpoint thread exited (code ${code})`));
  }

  /** True while the worker checkpoints for this connection. */
  get active(): boolean {
    return this.online && this.worker !== undefined;
  }

  /**
   * The live view's counts, read on the thread; undefined when there is no thread to ask (the caller
   * reads them itself).
   */
  counts(now: number): Promise<LiveCounts> | undefined {
    const worker = this.worker;
    if (!worker || this.closing) return undefined;
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, now } satisfies StatusRequest);
    });
  }

  private fallBack(): void {
    for (const w of this.waiting.values()) w.reject(new Error('the checkpoint thread is gone'));
    this.waiting.clear();
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
