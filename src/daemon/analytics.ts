/**
 * Forwards opens, clicks, unsubscribes, receipts and delivery outcomes to an analytics endpoint
 * (`analytics.webhookUrl`): batched JSON POSTs signed with `analytics.secret`
 * (X-Notify-Signature: sha256=<hex HMAC of the body>), retried with backoff until the endpoint takes
 * them. Delivery is at least once: each event carries its stream and id, so receivers can drop repeats.
 */
import { createHmac } from 'node:crypto';
import type { Config } from '../config.js';
import type { Store } from '../store/index.js';
import type { Logger } from './logger.js';

const STREAMS = ['engagement', 'deliveries'] as const;

export class AnalyticsForwarder {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;
  private nextTry = 0;
  /** Events forwarded since start. */
  forwarded = 0;

  constructor(private config: Config, private store: Store, private logger: Logger) {}

  async start(): Promise<void> {
    if (!this.config.analytics.webhookUrl) return;
    // A new endpoint starts from now, not from the whole history.
    const latest = await this.store.stats.latestIds();
    for (const stream of STREAMS) {
      if ((await this.store.stats.cursor(stream)) === 0) await this.store.stats.setCursor(stream, latest[stream]);
    }
    this.timer = setInterval(() => {
      this.running ??= this.forward().finally(() => (this.running = undefined));
    }, this.config.analytics.intervalMs);
  }

  /** One pass: forwards what is new, a batch per stream; returns when done or failed. */
  async forward(): Promise<void> {
    if (Date.now() < this.nextTry) return;
    const { webhookUrl, secret, batchSize } = this.config.analytics;
    for (const stream of STREAMS) {
      const after = await this.store.stats.cursor(stream);
      const rows = await this.store.stats.events(stream, { afterId: after, limit: batchSize });
      if (rows.length === 0) continue;
      const body = JSON.stringify({ source: 'notify', events: rows.map((r) => ({ ...r, at: new Date(r.at as number).toISOString(), machine: r.machine === 1 })) });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (secret) headers['x-notify-signature'] = 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
      try {
        const res = await fetch(webhookUrl!, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
        if (!res.ok) throw new Error(`answered ${res.status}`);
        await this.store.stats.setCursor(stream, rows.at(-1)!.id as number);
        this.forwarded += rows.length;
        this.failures = 0;
      } catch (err) {
        this.failures++;
        this.nextTry = Date.now() + Math.min(300_000, 1000 * 2 ** this.failures);
        this.logger.warn({ stream, err: (err as Error).message, retryInMs: this.nextTry - Date.now() }, 'analytics forwarding failed; will retry');
        return;
      }
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
