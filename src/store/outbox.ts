/**
 * The outbox's named statements: claim, record (complete / fail / dead, batched), reclaimStale and
 * release. Times are parameters from the injected clock.
 */
import { writeWithoutBlocking, type Database } from './db.js';
import type { Clock } from '../core/time.js';
import type { Channel, DeliveryStatus, ProviderKey, User, WebPushSubscription } from '../core/types.js';
import { toUser } from './users.js';

export interface ClaimedDelivery {
  id: number;
  notificationId: string;
  userId: string;
  channel: Channel;
  provider: ProviderKey;
  deviceId: number | null;
  address: string | null;
  category: string;
  priority: number;
  /** This attempt's number, 1-based. */
  attempt: number;
  createdAt: number;
}

/** The result of one attempt, written back in batches. */
export type Outcome =
  | { type: 'sent'; id: number; providerId: string; at: number }
  | { type: 'retry'; id: number; nextAt: number; error: string; at: number }
  /** Not attempted: held (quiet hours) until `nextAt`; the claim's attempt is given back. */
  | { type: 'defer'; id: number; nextAt: number; reason: string; at: number }
  | { type: 'dead'; id: number; error: string; at: number;
      /** Deactivate this device (dead token). */
      deactivateDevice?: { deviceId: number; reason: string };
      /** Suppress this address (bounced email, unreachable number). */
      suppress?: { channel: Channel; address: string; reason: string };
      /** Opt the user out of a channel at the provider's word (SMS STOP). */
      optOut?: { userId: string; channel: Channel };
    };

export interface DeliveryRow {
  id: number; notificationId: string; userId: string; channel: string; provider: string; deviceId: number | null;
  address: string | null; category: string; priority: number; status: DeliveryStatus; skipReason: string | null;
  attempts: number; nextAt: number; leaseOwner: string | null; leaseUntil: number | null; providerId: string | null;
  lastError: string | null; createdAt: number; updatedAt: number; sentAt: number | null;
}

export interface DeliveryEvent { deliveryId: number; at: number; status: string; detail: string | null }

export interface LaneDepth { provider: string; due: number; retrying: number; sending: number; oldestDueAt: number | null }

function toDelivery(r: Record<string, unknown>): DeliveryRow {
  return {
    id: r.id as number, notificationId: r.notification_id as string, userId: r.user_id as string, channel: r.channel as string,
    provider: r.provider as string, deviceId: r.device_id as number | null, address: r.address as string | null,
    category: r.category as string, priority: r.priority as number, status: r.status as DeliveryStatus,
    skipReason: r.skip_reason as string | null, attempts: r.attempts as number, nextAt: r.next_at as number,
    leaseOwner: r.lease_owner as string | null, leaseUntil: r.lease_until as number | null, providerId: r.provider_id as string | null,
    lastError: r.last_error as string | null, createdAt: r.created_at as number, updatedAt: r.updated_at as number, sentAt: r.sent_at as number | null,
  };
}

export class OutboxStore {
  private stmts?: ReturnType<OutboxStore['prepare']>;

  constructor(private db: Database, private clock: Clock) {}

  private prepare() {
    const db = this.db;
    return {
      claim: db.prepare(`UPDATE deliveries SET status = 'sending', lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
        WHERE id IN (SELECT id FROM deliveries WHERE provider = ? AND status IN ('queued', 'failed', 'scheduled') AND next_at <= ?
                     ORDER BY priority, next_at LIMIT ?)
        RETURNING id, notification_id AS notificationId, user_id AS userId, channel, provider, device_id AS deviceId, address, category,
          priority, attempts AS attempt, created_at AS createdAt, next_at AS nextAt`),
      sent: db.prepare(`UPDATE deliveries SET status = 'sent', provider_id = ?, sent_at = ?, last_error = NULL, lease_owner = NULL, lease_until = NULL, updated_at = ?
        WHERE id = ? AND status = 'sending'`),
      retry: db.prepare(`UPDATE deliveries SET status = 'failed', next_at = ?, last_error = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?
        WHERE id = ? AND status = 'sending'`),
      dead: db.prepare(`UPDATE deliveries SET status = 'dead', last_error = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?
        WHERE id = ? AND status = 'sending'`),
      defer: db.prepare(`UPDATE deliveries SET status = 'scheduled', next_at = ?, attempts = attempts - 1, lease_owner = NULL, lease_until = NULL, updated_at = ?
        WHERE id = ? AND status = 'sending'`),
      event: db.prepare('INSERT INTO delivery_events (delivery_id, at, status, detail) VALUES (?, ?, ?, ?)'),
      deactivate: db.prepare('UPDATE devices SET active = 0, deactivated_at = ?, deactivated_reason = ?, updated_at = ? WHERE id = ? AND active = 1'),
      suppress: db.prepare(`INSERT INTO suppressions (channel, address, reason, at) VALUES (?, ?, ?, ?)
        ON CONFLICT (channel, address) DO UPDATE SET reason = excluded.reason, at = excluded.at`),
      optOut: db.prepare(`INSERT INTO preferences (user_id, channel, category, opt_in, source, updated_at) VALUES (?, ?, '*', 0, 'provider', ?)
        ON CONFLICT (user_id, channel, category) DO UPDATE SET opt_in = 0, source = 'provider', updated_at = excluded.updated_at`),
      optOutHistory: db.prepare(`INSERT INTO preference_history (user_id, channel, category, opt_in, source, at) VALUES (?, ?, '*', 0, 'provider', ?)`),
      reclaim: db.prepare(`UPDATE deliveries SET status = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = ?
        WHERE status = 'sending' AND lease_until < ? RETURNING id`),
      release: db.prepare(`UPDATE deliveries SET status = 'queued', attempts = attempts - 1, lease_owner = NULL, lease_until = NULL, updated_at = ?
        WHERE id = ? AND status = 'sending' AND lease_owner = ?`),
    };
  }

  private get s() {
    return (this.stmts ??= this.prepare());
  }

  /**
   * Claims up to `limit` due deliveries of one provider under a lease, in priority then due-time
   * order, in one atomic statement: two daemons never get the same row.
   */
  async claim(provider: ProviderKey, owner: string, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const now = this.clock.now();
    // Rows come back already shaped as ClaimedDelivery (column aliases): no second object per row.
    const rows = await writeWithoutBlocking(this.db, () => this.s.claim.all(owner, now + leaseMs, now, provider, now, limit) as (ClaimedDelivery & { nextAt: number })[]);
    // RETURNING's order is the update's, not the subquery's: restore claim order.
    return rows.sort((a, b) => a.priority - b.priority || a.nextAt - b.nextAt || a.id - b.id);
  }

  /** Writes a batch of outcomes in one transaction, each with its log event and side effects. */
  async record(outcomes: Outcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    const s = this.s;
    await writeWithoutBlocking(this.db, () => this.db.transaction(() => {
      for (const o of outcomes) {
        if (o.type === 'sent') {
          if (s.sent.run(o.providerId, o.at, o.at, o.id).changes) s.event.run(o.id, o.at, 'sent', o.providerId);
        } else if (o.type === 'defer') {
          if (s.defer.run(o.nextAt, o.at, o.id).changes) s.event.run(o.id, o.at, 'deferred', o.reason);
        } else if (o.type === 'retry') {
          if (s.retry.run(o.nextAt, o.error, o.at, o.id).changes) s.event.run(o.id, o.at, 'failed', `${o.error}; retry at ${new Date(o.nextAt).toISOString()}`);
        } else {
          if (s.dead.run(o.error, o.at, o.id).changes) s.event.run(o.id, o.at, 'dead', o.error);
          if (o.deactivateDevice) s.deactivate.run(o.at, o.deactivateDevice.reason, o.at, o.deactivateDevice.deviceId);
          if (o.suppress) s.suppress.run(o.suppress.channel, o.suppress.address, o.suppress.reason, o.at);
          if (o.optOut) {
            s.optOut.run(o.optOut.userId, o.optOut.channel, o.at);
            s.optOutHistory.run(o.optOut.userId, o.optOut.channel, o.at);
          }
        }
      }
    }).immediate());
  }

  /** Returns deliveries whose lease expired (their daemon died) to the queue. */
  async reclaimStale(): Promise<number[]> {
    const now = this.clock.now();
    return (await writeWithoutBlocking(this.db, () => this.s.reclaim.all(now, now) as { id: number }[])).map((r) => r.id);
  }

  /** Gives back claimed deliveries that were never attempted (graceful shutdown). */
  async release(ids: number[], owner: string): Promise<void> {
    if (ids.length === 0) return;
    const now = this.clock.now();
    this.db.transaction(() => {
      for (const id of ids) this.s.release.run(now, id, owner);
    }).immediate();
  }

  async getUsers(ids: string[]): Promise<Map<string, User>> {
    const rows = this.db.prepare('SELECT * FROM users WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(ids)) as Parameters<typeof toUser>[0][];
    return new Map(rows.map((r) => [r.id, toUser(r)]));
  }

  async getSubscriptions(deviceIds: number[]): Promise<Map<number, WebPushSubscription>> {
    const rows = this.db.prepare('SELECT id, subscription FROM devices WHERE id IN (SELECT value FROM json_each(?)) AND subscription IS NOT NULL')
      .all(JSON.stringify(deviceIds)) as { id: number; subscription: string }[];
    return new Map(rows.map((r) => [r.id, JSON.parse(r.subscription) as WebPushSubscription]));
  }

  /**
   * Due, retrying and in-flight rows per provider, for the live view. Each count reads one index:
   * the partial due index, the status index, the lease index.
   */
  async depths(providers: readonly string[]): Promise<LaneDepth[]> {
    const now = this.clock.now();
    const due = this.db.prepare(`SELECT count(*) AS n, min(next_at) AS oldest FROM deliveries
      WHERE provider = ? AND status IN ('queued', 'failed', 'scheduled') AND next_at <= ?`);
    const retrying = this.db.prepare(`SELECT provider, count(*) AS n FROM deliveries WHERE status = 'failed' GROUP BY provider`).all() as { provider: string; n: number }[];
    const sending = this.db.prepare(`SELECT provider, count(*) AS n FROM deliveries WHERE status = 'sending' GROUP BY provider`).all() as { provider: string; n: number }[];
    return providers.map((provider) => {
      const d = due.get(provider, now) as { n: number; oldest: number | null };
      return {
        provider, due: d.n, oldestDueAt: d.oldest,
        retrying: retrying.find((r) => r.provider === provider)?.n ?? 0, sending: sending.find((r) => r.provider === provider)?.n ?? 0,
      };
    });
  }

  async list(filter: { userId?: string; notificationId?: string; status?: string; since?: number; limit?: number } = {}): Promise<DeliveryRow[]> {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (filter.userId) { clauses.push('user_id = ?'); params.push(filter.userId); }
    if (filter.notificationId) {
      // The notification index leaves out rows being sent (migration 008): those come from the lease index.
      clauses.push(`(notification_id = ? AND status <> 'sending' OR id IN (SELECT id FROM deliveries WHERE status = 'sending' AND notification_id = ?))`);
      params.push(filter.notificationId, filter.notificationId);
    }
    if (filter.status) { clauses.push('status = ?'); params.push(filter.status); }
    if (filter.since !== undefined) { clauses.push('updated_at >= ?'); params.push(filter.since); }
    const rows = this.db.prepare(`SELECT * FROM deliveries ${clauses.length ? 'WHERE ' + clauses.join(' AND ') : ''}
      ORDER BY id DESC LIMIT ?`).all(...params, filter.limit ?? 100) as Record<string, unknown>[];
    return rows.map(toDelivery);
  }

  async events(deliveryIds: number[]): Promise<DeliveryEvent[]> {
    if (deliveryIds.length === 0) return [];
    const rows = this.db.prepare(`SELECT delivery_id, at, status, detail FROM delivery_events WHERE delivery_id IN (SELECT value FROM json_each(?)) ORDER BY id`)
      .all(JSON.stringify(deliveryIds)) as { delivery_id: number; at: number; status: string; detail: string | null }[];
    return rows.map((r) => ({ deliveryId: r.delivery_id, at: r.at, status: r.status, detail: r.detail }));
  }

  /** Counts of deliveries by status, overall. */
  async statusCounts(): Promise<Record<string, number>> {
    const rows = this.db.prepare('SELECT status, count(*) AS c FROM deliveries GROUP BY status').all() as { status: string; c: number }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.c]));
  }
}
