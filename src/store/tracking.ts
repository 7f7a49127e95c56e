/**
 * What tracking links and provider callbacks record: opens, clicks, unsubscribes and delivery
 * receipts, each as an engagement event tied to its delivery.
 */
import type { Database } from './db.js';
import type { Clock } from '../core/time.js';

export type TrackedType = 'opened' | 'clicked' | 'unsubscribed' | 'delivered' | 'undelivered';

export interface TrackedDelivery {
  id: number;
  notificationId: string;
  userId: string;
  channel: string;
  category: string;
  status: string;
  sentAt: number | null;
}

export class TrackingStore {
  constructor(private db: Database, private clock: Clock) {}

  async delivery(id: number): Promise<TrackedDelivery | undefined> {
    const r = this.db.prepare('SELECT id, notification_id, user_id, channel, category, status, sent_at FROM deliveries WHERE id = ?').get(id) as
      { id: number; notification_id: string; user_id: string; channel: string; category: string; status: string; sent_at: number | null } | undefined;
    return r && { id: r.id, notificationId: r.notification_id, userId: r.user_id, channel: r.channel, category: r.category, status: r.status, sentAt: r.sent_at };
  }

  /** Records one event for a delivery; `source` says who reported it (link, pixel, twilio, api). */
  async record(d: TrackedDelivery, event: { type: TrackedType; at: number; machine?: boolean; detail?: string; source: string }): Promise<void> {
    this.db.prepare(`INSERT INTO engagement_events (notification_id, delivery_id, user_id, type, at, app_id, source, created_at, machine, detail)
      VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)`).run(d.notificationId, d.id, d.userId, event.type, event.at, event.source, this.clock.now(),
      event.machine ? 1 : 0, event.detail ?? null);
  }

  /**
   * Opts the delivery's user out of email for the delivery's category (source "unsubscribe") and
   * records it; a second unsubscribe from the same delivery changes nothing. Returns whether it changed.
   */
  async unsubscribe(d: TrackedDelivery, at: number): Promise<boolean> {
    return this.db.transaction(() => {
      const current = this.db.prepare(`SELECT opt_in FROM preferences WHERE user_id = ? AND channel = 'email' AND category = ?`).pluck().get(d.userId, d.category);
      if (current === 0) return false;
      this.db.prepare(`INSERT INTO preferences (user_id, channel, category, opt_in, source, updated_at) VALUES (?, 'email', ?, 0, 'unsubscribe', ?)
        ON CONFLICT (user_id, channel, category) DO UPDATE SET opt_in = 0, source = 'unsubscribe', updated_at = excluded.updated_at`).run(d.userId, d.category, at);
      this.db.prepare(`INSERT INTO preference_history (user_id, channel, category, opt_in, source, at) VALUES (?, 'email', ?, 0, 'unsubscribe', ?)`).run(d.userId, d.category, at);
      this.db.prepare(`INSERT INTO engagement_events (notification_id, delivery_id, user_id, type, at, app_id, source, created_at, machine, detail)
        VALUES (?, ?, ?, 'unsubscribed', ?, NULL, 'link', ?, 0, ?)`).run(d.notificationId, d.id, d.userId, at, this.clock.now(), d.category);
      return true;
    }).immediate();
  }
}
