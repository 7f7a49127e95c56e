/**
 * One lane per provider: a p-queue with the provider's concurrency, priority and rate limit, fed a
 * small window of claimed deliveries at a time. p-queue's priority queue costs O(n) per insert, so the
 * window stays small; memory stays flat whatever the backlog in the database.
 */
import PQueue from 'p-queue';
import type { ProviderKey } from '../core/types.js';

export interface LaneOptions {
  provider: ProviderKey;
  /** The adapter's name: the provider itself, or "log". */
  adapterName: string;
  concurrency: number;
  /** Sends per second at most; undefined = unlimited. */
  rateLimit?: number;
  /** Claimed rows held at most (queued + in flight). Default max(3 × concurrency, 300). */
  window?: number;
}

/** Counters over a sliding window of whole seconds, for rates. */
class RateCounter {
  private buckets = new Map<number, number>();
  total = 0;
  add(now: number, n = 1): void {
    const sec = Math.floor(now / 1000);
    this.buckets.set(sec, (this.buckets.get(sec) ?? 0) + n);
    this.total += n;
    if (this.buckets.size > 12) for (const k of this.buckets.keys()) if (k < sec - 10) this.buckets.delete(k);
  }
  /** Per second over the last `seconds` full seconds. */
  rate(now: number, seconds = 5): number {
    const sec = Math.floor(now / 1000);
    let sum = 0;
    for (let s = sec - seconds; s < sec; s++) sum += this.buckets.get(s) ?? 0;
    return sum / seconds;
  }
}

export interface LaneStatus {
  provider: ProviderKey;
  adapter: string;
  queued: number;
  inFlight: number;
  window: number;
  concurrency: number;
  rateLimit: number | null;
  sent: number;
  failed: number;
  dead: number;
  sentPerSec: number;
  failedPerSec: number;
}

export class Lane {
  readonly queue: PQueue;
  readonly window: number;
  readonly lowWater: number;
  readonly sent = new RateCounter();
  readonly failed = new RateCounter();
  readonly dead = new RateCounter();
  /** Claimed ids not yet handed to the provider: released on shutdown. */
  readonly waiting = new Set<number>();
  /** Sends handed to the provider and not yet answered, for the timeout sweep. */
  readonly inFlight = new Set<{ startedAt: number; controller?: AbortController }>();
  /** A claim found nothing: skip this lane until then, unless woken. */
  idleUntil = 0;
  private onLow: (() => void) | undefined;

  constructor(readonly options: LaneOptions) {
    this.queue = new PQueue({
      concurrency: options.concurrency,
      ...(options.rateLimit ? { intervalCap: Math.max(1, Math.round(options.rateLimit)), interval: 1000, carryoverIntervalCount: true } : {}),
    });
    this.window = options.window ?? Math.max(3 * options.concurrency, 300);
    // Refill at two thirds: a claim lands while a third of the window still waits, so the provider's
    // connections never idle for the claim's round trip (at one half, the queue was empty by then).
    this.lowWater = Math.floor((this.window * 2) / 3);
    this.queue.on('next', () => {
      if (this.load <= this.lowWater) this.onLow?.();
    });
  }

  /** Rows held: waiting in the queue plus in flight. */
  get load(): number {
    return this.queue.size + this.queue.pending;
  }

  /** Room for more claims, or 0 while above the low-water mark. */
  get room(): number {
    return this.load <= this.lowWater ? this.window - this.load : 0;
  }

  /** Called when the lane drains below its low-water mark. */
  onDrain(fn: () => void): void {
    this.onLow = fn;
  }

  /** Adds a send; `rank` 0 = high priority, 2 = low. */
  add(id: number, rank: number, task: () => Promise<void>): void {
    this.waiting.add(id);
    void this.queue.add(async () => {
      this.waiting.delete(id);
      await task();
    }, { priority: 2 - rank });
  }

  /** Drops every queued send that has not started; returns their ids for release. */
  clearWaiting(): number[] {
    this.queue.clear();
    const ids = [...this.waiting];
    this.waiting.clear();
    return ids;
  }

  status(now: number): LaneStatus {
    return {
      provider: this.options.provider, adapter: this.options.adapterName, queued: this.queue.size, inFlight: this.queue.pending,
      window: this.window, concurrency: this.options.concurrency, rateLimit: this.options.rateLimit ?? null,
      sent: this.sent.total, failed: this.failed.total, dead: this.dead.total,
      sentPerSec: this.sent.rate(now), failedPerSec: this.failed.rate(now),
    };
  }
}
