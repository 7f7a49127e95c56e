/**
 * The live view's database figures (queue depths, campaign progress), read off the main thread and
 * cached briefly: `status()` answers from the last reading while the next one runs.
 */
import { Worker } from 'node:worker_threads';
import { PROVIDERS } from '../core/types.js';
import type { Store } from '../store/index.js';
import type { LaneDepth } from '../store/outbox.js';
import { isBundle } from '../sea.js';

export interface StatusReading {
  depths: LaneDepth[];
  campaigns: { id: string; template: string; total: number; done: number; sent: number; dead: number }[];
  at: number;
}

export class StatusReader {
  private worker: Worker | undefined;
  private last: StatusReading | undefined;
  private pending: Promise<StatusReading> | undefined;

  constructor(private store: Store, private maxAgeMs = 1000) {
    if (isBundle()) return;
    try {
      // Small limits: it holds a few counts, and its heap would otherwise grow like the daemon's.
      this.worker = new Worker(new URL('./status-worker.js', import.meta.url), {
        workerData: { path: store.path },
        resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 },
      });
      this.worker.unref();
      this.worker.on('error', () => (this.worker = undefined));
    } catch {
      // Where no worker can start (a bundled executable), read on this thread.
      this.worker = undefined;
    }
  }

  /** The latest reading; waits for one only the first time. */
  async read(now: number): Promise<StatusReading> {
    if (!this.last || now - this.last.at > this.maxAgeMs) {
      this.pending ??= this.measure(now).then((r) => (this.last = r)).finally(() => (this.pending = undefined));
      if (!this.last) return this.pending;
    }
    return this.last;
  }

  private async measure(now: number): Promise<StatusReading> {
    const worker = this.worker;
    if (!worker) {
      const [depths, campaigns] = await Promise.all([this.store.outbox.depths(PROVIDERS), this.store.notifications.progress()]);
      return { depths, campaigns, at: now };
    }
    return new Promise((resolve, reject) => {
      worker.once('message', (m: { depths: LaneDepth[]; campaigns: StatusReading['campaigns']; error?: string }) => {
        if (m.error) reject(new Error(m.error));
        else resolve({ depths: m.depths, campaigns: m.campaigns, at: now });
      });
      worker.postMessage({ now });
    });
  }

  async close(): Promise<void> {
    await this.pending?.catch(() => undefined);
    await this.worker?.terminate();
  }
}
