/**
 * Dead-letter alerts for operators ("notify the developers"): by email through the email channel
 * and/or a webhook, batched — at most one alert per `alerts.intervalMs` — so an outage cannot flood anyone.
 */
import type { Config } from '../config.js';
import type { Clock } from '../core/time.js';
import type { ClaimedDelivery } from '../store/outbox.js';
import type { ChannelAdapter } from '../channels/types.js';
import type { Logger } from './logger.js';

interface DeadLetter { deliveryId: number; provider: string; channel: string; userId: string; error: string; at: number }

export class Alerter {
  private pending: DeadLetter[] = [];
  private dropped = 0;
  private lastSentAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  /** Alerts sent so far (for the status view and tests). */
  sent = 0;

  constructor(
    private config: Config,
    private clock: Clock,
    private logger: Logger,
    private emailAdapter: () => ChannelAdapter | undefined,
  ) {}

  private get enabled(): boolean {
    return this.config.alerts.email.length > 0 || this.config.alerts.webhookUrl !== undefined;
  }

  start(): void {
    if (!this.enabled) return;
    this.timer = setInterval(() => void this.maybeSend(), Math.min(this.config.alerts.intervalMs, 1000));
    this.timer.unref();
  }

  /** A delivery that failed for good (not a dead address, which is routine churn). */
  dead(row: ClaimedDelivery, error: string): void {
    if (!this.enabled) return;
    if (this.pending.length >= 100) {
      this.dropped++;
      return;
    }
    this.pending.push({ deliveryId: row.id, provider: row.provider, channel: row.channel, userId: row.userId, error, at: this.clock.now() });
  }

  private async maybeSend(force = false): Promise<void> {
    if (this.pending.length === 0) return;
    const now = this.clock.now();
    if (!force && now - this.lastSentAt < this.config.alerts.intervalMs) return;
    const letters = this.pending;
    const dropped = this.dropped;
    this.pending = [];
    this.dropped = 0;
    this.lastSentAt = now;
    const total = letters.length + dropped;
    const summary = `${total} notification deliver${total === 1 ? 'y' : 'ies'} failed for good`;
    const lines = letters.map((l) => `- delivery ${l.deliveryId} (${l.provider}, user ${l.userId}): ${l.error}`);
    if (dropped) lines.push(`- and ${dropped} more`);
    const body = `${summary}.\n\n${lines.join('\n')}\n\nSee them with: notify log --status dead\n`;
    const tasks: Promise<unknown>[] = [];
    if (this.config.alerts.webhookUrl) {
      tasks.push(fetch(this.config.alerts.webhookUrl, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'notify.dead_letters', summary, count: total, deliveries: letters }),
        signal: AbortSignal.timeout(10_000),
      }).then((r) => {
        if (!r.ok) throw new Error(`webhook answered ${r.status}`);
      }));
    }
    const email = this.emailAdapter();
    if (email) {
      for (const to of this.config.alerts.email) {
        tasks.push(email.send({
          deliveryId: 0, notificationId: 'alert', userId: 'operator', attempt: 1, category: 'transactional', priority: 'high',
          channel: 'email', provider: 'email', to, content: { subject: `[notify] ${summary}`, text: body },
        }, {}));
      }
    }
    const results = await Promise.allSettled(tasks);
    this.sent++;
    for (const r of results) {
      if (r.status === 'rejected') this.logger.error({ err: (r.reason as Error).message }, 'sending an operator alert failed');
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.maybeSend(true);
  }
}
