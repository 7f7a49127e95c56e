/**
 * Delivery and engagement statistics over a filter of deliveries: counts by outcome, opens and clicks
 * (unique, total, machine), unsubscribes, receipts, latency and a time series. Each figure is one
 * aggregate query over the indexed filter.
 */
import type { Database } from './db.js';
import type { Clock } from '../core/time.js';

export interface StatsFilter {
  notificationId?: string;
  template?: string;
  channel?: string;
  category?: string;
  /** Deliveries created at or after (epoch ms). */
  since?: number;
  /** Deliveries created before (epoch ms). */
  until?: number;
}

export interface Stats {
  deliveries: number;
  queued: number;
  scheduled: number;
  sending: number;
  sent: number;
  /** Sent, less those a provider receipt says were not delivered. */
  delivered: number;
  /** Retry pending. */
  failed: number;
  dead: number;
  canceled: number;
  paused: number;
  skipped: Record<string, number>;
  receipts: { delivered: number; undelivered: number };
  opened: { unique: number; total: number; machine: number };
  clicked: { unique: number; total: number };
  unsubscribed: number;
  rates: { delivery: number | null; open: number | null; click: number | null; unsubscribe: number | null };
  /** Created -> sent, in ms: the upper edge of the bucket holding each percentile (sampled above 20,000 sends). */
  latencyMs: { p50: number | null; p90: number | null; p99: number | null };
  series?: { at: string; sent: number; opened: number; clicked: number }[];
}

/** Latency percentiles are computed from about this many sent deliveries at most. */
const LATENCY_SAMPLE = 20_000;

/** Upper edges of latency buckets (ms). */
const EDGES = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 86_400_000];

export class StatsStore {
  constructor(private db: Database, private clock: Clock) {}

  /**
   * The filter's SQL over deliveries `d`. A notification or template filter reads the notification
   * index, which leaves out rows being sent (migration 008): the default part is every other row, and
   * `sending` the rows being sent (found through the lease index) — only status counts need those.
   */
  private where(f: StatsFilter, part: 'settled' | 'sending' = 'settled'): { sql: string; params: unknown[] } {
    const c: string[] = [];
    const p: unknown[] = [];
    if (f.notificationId) { c.push('d.notification_id = ?'); p.push(f.notificationId); }
    if (f.template) { c.push('d.notification_id IN (SELECT id FROM notifications WHERE template = ?)'); p.push(f.template); }
    if (part === 'sending') c.unshift(`d.status = 'sending'`);
    else if (f.notificationId || f.template) c.push(`d.status <> 'sending'`);
    if (f.channel) { c.push('d.channel = ?'); p.push(f.channel); }
    if (f.category) { c.push('d.category = ?'); p.push(f.category); }
    if (f.since !== undefined) { c.push('d.created_at >= ?'); p.push(f.since); }
    if (f.until !== undefined) { c.push('d.created_at < ?'); p.push(f.until); }
    return { sql: c.length ? c.join(' AND ') : '1', params: p };
  }

  async compute(f: StatsFilter, by?: 'hour' | 'day'): Promise<Stats> {
    const w = this.where(f);
    const ws = this.where(f, 'sending');
    const byStatus = this.db.prepare(`SELECT status, skip_reason, count(*) AS n FROM deliveries d WHERE ${w.sql} GROUP BY status, skip_reason
      ${f.notificationId || f.template ? `UNION ALL SELECT status, skip_reason, count(*) FROM deliveries d WHERE ${ws.sql} GROUP BY status, skip_reason` : ''}`)
      .all(...w.params, ...(f.notificationId || f.template ? ws.params : [])) as { status: string; skip_reason: string | null; n: number }[];
    const count = (s: string) => byStatus.filter((r) => r.status === s).reduce((a, r) => a + r.n, 0);
    const skipped: Record<string, number> = {};
    for (const r of byStatus) if (r.status === 'skipped') skipped[r.skip_reason ?? 'unknown'] = (skipped[r.skip_reason ?? 'unknown'] ?? 0) + r.n;

    // Engagement joined to the filtered deliveries. A campaign filter uses the notification index.
    const eWhere = f.notificationId && Object.keys(f).filter((k) => f[k as keyof StatsFilter] !== undefined).length === 1
      ? { sql: 'e.notification_id = ?', params: [f.notificationId] }
      : { sql: `e.delivery_id IN (SELECT d.id FROM deliveries d WHERE ${w.sql})`, params: w.params };
    const e = this.db.prepare(`SELECT
        sum(type = 'opened') AS opens,
        sum(type = 'opened' AND machine = 1) AS machine,
        count(DISTINCT CASE WHEN (type = 'opened' AND machine = 0) OR type = 'clicked' THEN delivery_id END) AS uniqueOpens,
        sum(type = 'clicked') AS clicks,
        count(DISTINCT CASE WHEN type = 'clicked' THEN delivery_id END) AS uniqueClicks,
        count(DISTINCT CASE WHEN type = 'unsubscribed' THEN delivery_id END) AS unsubscribed,
        count(DISTINCT CASE WHEN type = 'delivered' THEN delivery_id END) AS receiptsDelivered,
        count(DISTINCT CASE WHEN type = 'undelivered' THEN delivery_id END) AS receiptsUndelivered
      FROM engagement_events e WHERE ${eWhere.sql}`).get(...eWhere.params) as Record<string, number | null>;

    const sent = count('sent');
    const delivered = Math.max(0, sent - (e.receiptsUndelivered ?? 0));
    const attempted = sent + count('dead');
    const rate = (n: number, d: number) => (d > 0 ? Math.round((n / d) * 10_000) / 10_000 : null);

    // Latency from a sample of at most about LATENCY_SAMPLE sent deliveries (every k-th by id): the
    // stride filter reads the index alone; only sampled rows are fetched for their times.
    const stride = Math.max(1, Math.floor(sent / LATENCY_SAMPLE));
    const buckets = this.db.prepare(`SELECT ${this.bucketCase()} AS b, count(*) AS n FROM deliveries d
      WHERE ${w.sql} AND d.status = 'sent' AND d.id % ? = 0 GROUP BY b ORDER BY b`).all(...w.params, stride) as { b: number; n: number }[];
    const sampled = buckets.reduce((a, r) => a + r.n, 0);
    const pct = (q: number): number | null => {
      if (sampled === 0) return null;
      let seen = 0;
      for (const { b, n } of buckets) {
        seen += n;
        if (seen >= q * sampled) return b;
      }
      return buckets.at(-1)?.b ?? null;
    };

    const stats: Stats = {
      deliveries: byStatus.reduce((a, r) => a + r.n, 0),
      queued: count('queued'), scheduled: count('scheduled'), sending: count('sending'), sent, delivered,
      failed: count('failed'), dead: count('dead'), canceled: count('canceled'), paused: count('paused'), skipped,
      receipts: { delivered: e.receiptsDelivered ?? 0, undelivered: e.receiptsUndelivered ?? 0 },
      opened: { unique: e.uniqueOpens ?? 0, total: e.opens ?? 0, machine: e.machine ?? 0 },
      clicked: { unique: e.uniqueClicks ?? 0, total: e.clicks ?? 0 },
      unsubscribed: e.unsubscribed ?? 0,
      rates: {
        delivery: rate(delivered, attempted), open: rate(e.uniqueOpens ?? 0, delivered),
        click: rate(e.uniqueClicks ?? 0, delivered), unsubscribe: rate(e.unsubscribed ?? 0, delivered),
      },
      latencyMs: { p50: pct(0.5), p90: pct(0.9), p99: pct(0.99) },
    };
    if (by) stats.series = this.series(w, eWhere, by);
    return stats;
  }

  private bucketCase(): string {
    const lat = '(d.sent_at - d.created_at)';
    return `CASE ${EDGES.map((edge) => `WHEN ${lat} <= ${edge} THEN ${edge}`).join(' ')} ELSE ${EDGES.at(-1)! * 10} END`;
  }

  private series(w: { sql: string; params: unknown[] }, e: { sql: string; params: unknown[] }, by: 'hour' | 'day'): NonNullable<Stats['series']> {
    const size = by === 'hour' ? 3_600_000 : 86_400_000;
    const sent = this.db.prepare(`SELECT (d.sent_at / ${size}) * ${size} AS t, count(*) AS n FROM deliveries d WHERE ${w.sql} AND d.status = 'sent' GROUP BY t`)
      .all(...w.params) as { t: number; n: number }[];
    const eng = this.db.prepare(`SELECT (e.at / ${size}) * ${size} AS t, sum(type = 'opened' AND machine = 0) AS o, sum(type = 'clicked') AS c
      FROM engagement_events e WHERE ${e.sql} GROUP BY t`).all(...e.params) as { t: number; o: number; c: number }[];
    const times = [...new Set([...sent.map((r) => r.t), ...eng.map((r) => r.t)])].sort((a, b) => a - b);
    if (times.length === 0) return [];
    const out: NonNullable<Stats['series']> = [];
    const sentBy = new Map(sent.map((r) => [r.t, r.n]));
    const engBy = new Map(eng.map((r) => [r.t, r]));
    // Fill gaps, so charts show quiet hours as zeros (bounded to 500 points).
    for (let t = times[0]!; t <= times.at(-1)! && out.length < 500; t += size) {
      out.push({ at: new Date(t).toISOString(), sent: sentBy.get(t) ?? 0, opened: engBy.get(t)?.o ?? 0, clicked: engBy.get(t)?.c ?? 0 });
    }
    return out;
  }

  /** Engagement and delivery outcome events after `afterId` of a stream, for export and forwarding. */
  async events(stream: 'engagement' | 'deliveries', options: { afterId?: number; since?: number; until?: number; limit: number }): Promise<Record<string, unknown>[]> {
    const c: string[] = ['x.id > ?'];
    const p: unknown[] = [options.afterId ?? 0];
    if (options.since !== undefined) { c.push('x.at >= ?'); p.push(options.since); }
    if (options.until !== undefined) { c.push('x.at < ?'); p.push(options.until); }
    if (stream === 'engagement') {
      return this.db.prepare(`SELECT x.id, 'engagement' AS stream, x.type, x.at, x.notification_id, x.delivery_id, x.user_id, x.machine, x.source, x.detail,
          d.channel, d.category, n.template
        FROM engagement_events x LEFT JOIN deliveries d ON d.id = x.delivery_id LEFT JOIN notifications n ON n.id = x.notification_id
        WHERE ${c.join(' AND ')} ORDER BY x.id LIMIT ?`).all(...p, options.limit) as Record<string, unknown>[];
    }
    return this.db.prepare(`SELECT x.id, 'delivery' AS stream, x.status AS type, x.at, d.notification_id, x.delivery_id, d.user_id, 0 AS machine,
        d.provider AS source, x.detail, d.channel, d.category, n.template
      FROM delivery_events x JOIN deliveries d ON d.id = x.delivery_id LEFT JOIN notifications n ON n.id = d.notification_id
      WHERE ${c.join(' AND ')} ORDER BY x.id LIMIT ?`).all(...p, options.limit) as Record<string, unknown>[];
  }

  async cursor(stream: string): Promise<number> {
    return (this.db.prepare('SELECT last_id FROM analytics_cursors WHERE stream = ?').pluck().get(stream) as number | undefined) ?? 0;
  }

  async setCursor(stream: string, lastId: number): Promise<void> {
    this.db.prepare('INSERT INTO analytics_cursors (stream, last_id) VALUES (?, ?) ON CONFLICT (stream) DO UPDATE SET last_id = excluded.last_id').run(stream, lastId);
  }

  /** Latest ids, so a fresh forwarder starts from now rather than replaying history. */
  async latestIds(): Promise<{ engagement: number; deliveries: number }> {
    return {
      engagement: (this.db.prepare('SELECT coalesce(max(id), 0) FROM engagement_events').pluck().get() as number),
      deliveries: (this.db.prepare('SELECT coalesce(max(id), 0) FROM delivery_events').pluck().get() as number),
    };
  }
}
