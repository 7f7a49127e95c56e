/**
 * The live view's database figures (queue depths, campaign progress), cached briefly: `status()`
 * answers from the last reading while the next one runs. They are read on the Checkpointer's thread
 * when it runs (a large outbox never stalls the claim loop while `notify top` is open), else here.
 */
import { PROVIDERS } from '../core/types.js';
import type { Store } from '../store/index.js';
import type { LiveCounts } from '../store/checkpointer.js';

export interface StatusReading extends LiveCounts {
  at: number;
}

/** Where counts come from off this thread; undefined from it means "read them here". */
export interface CountsSource {
  counts(now: number): Promise<LiveCounts> | undefined;
}

export class StatusReader {
  private last: StatusReading | undefined;
  private pending: Promise<StatusReading> | undefined;

  constructor(private store: Store, private source?: CountsSource, private maxAgeMs = 1000) {}

  /** The latest reading; waits for one only the first time. */
  async read(now: number): Promise<StatusReading> {
    if (!this.last || now - this.last.at > this.maxAgeMs) {
      this.pending ??= this.measure(now).then((r) => (this.last = r)).finally(() => (this.pending = undefined));
      if (!this.last) return this.pending;
    }
    return this.last;
  }

  private async measure(now: number): Promise<StatusReading> {
    const off = this.source?.counts(now);
    if (off) {
      try {
        return { ...(await off), at: now };
      } catch {
        // The thread went away mid-request: read here.
      }
    }
    const [depths, campaigns] = await Promise.all([this.store.outbox.depths(PROVIDERS), this.store.notifications.progress()]);
    return { depths, campaigns, at: now };
  }

  async close(): Promise<void> {
    await this.pending?.catch(() => undefined);
  }
}
