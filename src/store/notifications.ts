/**
 * Notifications (requests) and their fan-out into deliveries. Fan-out is set-based SQL
 * (INSERT ... SELECT) in short batched transactions over the audience in user-id order, so a daemon's
 * claims never wait long, and a crashed fan-out resumes from `fanout_after`.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from './db.js';
import type { Clock } from '../core/time.js';
import type { Channel, SkipReason } from '../core/types.js';
import type { SqlFilter } from './users.js';
import { InputError, NotFoundError } from '../errors.js';

export type NotificationStatus = 'scheduled' | 'fanning' | 'active' | 'paused' | 'canceled' | 'done';

export interface NotificationRow {
  id: string;
  eventId: string | null;
  template: string;
  templateVersion: number;
  category: string;
  priority: number;
  data: Record<string, unknown>;
  audience: { segment: string } | { users: number };
  channels: Channel[];
  isCampaign: boolean;
  status: NotificationStatus;
  source: string;
  appId: string | null;
  sendAt: number | null;
  timing: NotificationTiming | null;
  counts: NotificationCounts;
  createdAt: number;
  updatedAt: number;
}

/** A notification as dispatch renders it. */
export type NotificationContent = Pick<NotificationRow, 'id' | 'template' | 'templateVersion' | 'data'>;

/** Local-time delivery: at `localTime` in each recipient's timezone, on `date` or the next such time. */
export interface NotificationTiming {
  localTime?: string;
  date?: string;
}

export interface NotificationCounts {
  /** Deliveries written, by channel and status. */
  deliveries?: Record<string, Record<string, number>>;
  /** Skipped deliveries by reason. */
  skipped?: Partial<Record<SkipReason, number>>;
  /** Users in the audience with no address on an explicitly requested channel, by channel. */
  noAddress?: Partial<Record<Channel, number>>;
  /** Users in the audience. */
  audience?: number;
}

export interface NotificationInput {
  eventId?: string;
  template: string;
  templateVersion: number;
  category: string;
  priority: number;
  data: Record<string, unknown>;
  audience: { segment: string } | { users: string[] };
  channels: Channel[];
  source: string;
  appId?: string;
  sendAt?: number;
  timing?: NotificationTiming;
  /** 'scheduled' waits for the daemon; 'fanning' is fanned out by the caller now. */
  status: 'scheduled' | 'fanning';
  /** Lease owner for a fan-out the caller starts now. */
  owner?: string;
}

/** What a fan-out needs besides the notification: compiled filters from the other stores and config. */
/** Users per fan-out transaction by default (about 10-20 ms each). */
export const FANOUT_BATCH = 2000;

export interface FanoutPlan {
  /** The segment's filter over `u`; ignored for user-list notifications. */
  segment?: SqlFilter;
  /** Per channel: true when u is opted in to the notification's category there. */
  optIn: Partial<Record<Channel, SqlFilter>>;
  /** Notifications of this category a person may receive per 24 h; undefined = uncapped. */
  capPerDay?: number;
  /** Count users without an address on each channel (when channels were asked for explicitly). */
  countNoAddress: boolean;
  /** Users per transaction. Default 2000 (about 10-20 ms each). */
  batchSize?: number;
  /** Dry runs only: the explicit audience (no recipients table rows exist yet). */
  users?: string[];
  /**
   * Per-recipient due times by `<timezone>|<quiet_hours attribute>` (local-time sends, quiet hours);
   * recipients whose key is absent are due at the fan-out's `nextAt`.
   */
  timing?: { dueByZone: Record<string, number>; defaultTimezone: string };
}

/** How long a fan-out holds its notification before another process may resume it. */
const FANOUT_LEASE_MS = 60_000;

interface NotificationDbRow {
  id: string; event_id: string | null; template: string; template_version: number; category: string; priority: number;
  data: string; audience: string; channels: string; is_campaign: number; status: NotificationStatus; source: string;
  app_id: string | null; send_at: number | null; timing: string | null; counts: string; created_at: number; updated_at: number;
  fanout_after: string | null;
}

function toNotification(r: NotificationDbRow): NotificationRow {
  return {
    id: r.id, eventId: r.event_id, template: r.template, templateVersion: r.template_version, category: r.category,
    priority: r.priority, data: JSON.parse(r.data), audience: JSON.parse(r.audience), channels: JSON.parse(r.channels),
    isCampaign: r.is_campaign === 1, status: r.status, source: r.source, appId: r.app_id, sendAt: r.send_at,
    timing: r.timing ? JSON.parse(r.timing) : null, counts: JSON.parse(r.counts), createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

/** Random bytes drawn in blocks: one call per id cost more than the rest of making the id. */
let pool = Buffer.alloc(0);
let poolAt = 0;

/**
 * `n_` + the time in ms (9 base-36 digits, so ids sort by creation) + 48 random bits. Time-ordered
 * ids land new rows at the right edge of the notifications index and of deliveries' notification
 * index: a commit of many real-time sends rewrites a few pages there, not one random page per send
 * (with random ids, a group of 57 sends wrote 2.8 times the WAL bytes).
 */
export function newNotificationId(now = Date.now()): string {
  if (poolAt + 6 > pool.length) {
    pool = randomBytes(6 * 256);
    poolAt = 0;
  }
  poolAt += 6;
  return 'n_' + now.toString(36).padStart(9, '0') + pool.toString('base64url', poolAt - 6, poolAt);
}

const PROVIDER_OF_PLATFORM = `CASE d.platform WHEN 'ios' THEN 'apns' WHEN 'android' THEN 'fcm' ELSE 'webpush' END`;

/** A running campaign's progress, for the live view. */
export interface CampaignProgress { id: string; template: string; total: number; done: number; sent: number; dead: number }

export class NotificationStore {
  constructor(private db: Database, private clock: Clock) {}

  /**
   * Records a notification. With an event id already used, nothing is written and the first
   * notification is returned with `deduplicated: true` — also when several processes race.
   */
  async create(input: NotificationInput): Promise<{ notification: NotificationRow; deduplicated: boolean }> {
    const now = this.clock.now();
    const id = newNotificationId(now);
    const isCampaign = 'segment' in input.audience;
    const audience = 'segment' in input.audience ? { segment: input.audience.segment } : { users: input.audience.users.length };
    const inserted = this.db.transaction(() => {
      const r = this.db.prepare(`INSERT INTO notifications (id, event_id, template, template_version, category, priority, data, audience,
          channels, is_campaign, status, source, app_id, send_at, timing, counts, fanout_owner, fanout_until, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING RETURNING *`).get(
        id, input.eventId ?? null, input.template, input.templateVersion, input.category, input.priority,
        JSON.stringify(input.data), JSON.stringify(audience), JSON.stringify(input.channels), isCampaign ? 1 : 0,
        input.status, input.source, input.appId ?? null, input.sendAt ?? null, input.timing ? JSON.stringify(input.timing) : null,
        input.owner ?? null, input.owner ? now + FANOUT_LEASE_MS : null, now, now) as NotificationDbRow | undefined;
      if (r === undefined) return undefined;
      if ('users' in input.audience) {
        const add = this.db.prepare('INSERT OR IGNORE INTO notification_recipients (notification_id, user_id) VALUES (?, ?)');
        for (const userId of input.audience.users) add.run(id, userId);
      }
      return r;
    }).immediate();
    if (!inserted) {
      const first = this.db.prepare('SELECT * FROM notifications WHERE event_id = ?').get(input.eventId) as NotificationDbRow;
      return { notification: toNotification(first), deduplicated: true };
    }
    return { notification: toNotification(inserted), deduplicated: false };
  }

  async get(id: string): Promise<NotificationRow | undefined> {
    const row = this.db.prepare('SELECT * FROM notifications WHERE id = ?').get(id) as NotificationDbRow | undefined;
    return row && toNotification(row);
  }

  async require(id: string): Promise<NotificationRow> {
    const n = await this.get(id);
    if (!n) throw new NotFoundError(`no notification "${id}": see "notify log" or "notify campaigns list"`);
    return n;
  }

  async byEventId(eventId: string): Promise<NotificationRow | undefined> {
    const row = this.db.prepare('SELECT * FROM notifications WHERE event_id = ?').get(eventId) as NotificationDbRow | undefined;
    return row && toNotification(row);
  }

  /** What dispatch needs of notifications: the template version and data of each (no other parsing). */
  async contents(ids: string[]): Promise<NotificationContent[]> {
    if (ids.length === 0) return [];
    const rows = this.db.prepare(`SELECT id, template, template_version AS templateVersion, data FROM notifications
      WHERE id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(ids)) as (Omit<NotificationContent, 'data'> & { data: string })[];
    return rows.map((r) => ({ id: r.id, template: r.template, templateVersion: r.templateVersion, data: JSON.parse(r.data) as Record<string, unknown> }));
  }

  async list(options: { campaignsOnly?: boolean; status?: NotificationStatus[]; limit?: number } = {}): Promise<NotificationRow[]> {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (options.campaignsOnly) clauses.push('is_campaign = 1');
    if (options.status?.length) {
      clauses.push(`status IN (SELECT value FROM json_each(?))`);
      params.push(JSON.stringify(options.status));
    }
    const rows = this.db.prepare(`SELECT * FROM notifications ${clauses.length ? 'WHERE ' + clauses.join(' AND ') : ''}
      ORDER BY created_at DESC LIMIT ?`).all(...params, options.limit ?? 50) as NotificationDbRow[];
    return rows.map(toNotification);
  }

  private audienceFilter(n: Pick<NotificationRow, 'id' | 'audience'>, plan: FanoutPlan): SqlFilter {
    if ('segment' in n.audience) return plan.segment ?? { sql: '1', params: [] };
    if (plan.users) return { sql: 'u.id IN (SELECT value FROM json_each(?))', params: [JSON.stringify(plan.users)] };
    return { sql: 'u.id IN (SELECT user_id FROM notification_recipients WHERE notification_id = ?)', params: [n.id] };
  }

  /**
   * The SELECT that yields one channel's deliveries for users in (after, upto]: every column of
   * `deliveries` it writes, with the skip reason decided in SQL.
   */
  private channelSelect(n: NotificationRow, channel: Channel, plan: FanoutPlan, range: { after: string | null; upto: string | null }): SqlFilter {
    const audience = this.audienceFilter(n, plan);
    const optIn = plan.optIn[channel] ?? { sql: '1', params: [] };
    const params: unknown[] = [];
    const rangeSql: string[] = [];
    if (range.after !== null) rangeSql.push('u.id > ?');
    if (range.upto !== null) rangeSql.push('u.id <= ?');
    const capSql = plan.capPerDay === undefined ? 'NULL' : `CASE WHEN (SELECT count(DISTINCT d2.notification_id) FROM deliveries d2
        WHERE d2.user_id = u.id AND d2.category = ? AND d2.created_at > ? AND d2.status NOT IN ('skipped', 'canceled')
        AND d2.notification_id != ?) >= ? THEN 'frequency-capped' END`;
    const capParams = plan.capPerDay === undefined ? [] : [n.category, this.clock.now() - 86_400_000, n.id, plan.capPerDay];
    let from: string;
    let cols: string;
    let reason: string;
    const reasonParams: unknown[] = [];
    if (channel === 'push') {
      from = 'users u JOIN devices d ON d.user_id = u.id AND d.active = 1';
      cols = `'push' AS channel, ${PROVIDER_OF_PLATFORM} AS provider, d.id AS device_id, d.token AS address`;
      reason = `CASE WHEN NOT (${optIn.sql}) THEN 'opted-out' ELSE ${capSql} END`;
      reasonParams.push(...optIn.params, ...capParams);
    } else {
      const col = channel === 'email' ? 'u.email' : 'u.phone';
      from = `users u LEFT JOIN suppressions s ON s.channel = '${channel}' AND s.address = ${col}`;
      cols = `'${channel}' AS channel, '${channel}' AS provider, NULL AS device_id, ${col} AS address`;
      reason = `CASE WHEN NOT (${optIn.sql}) THEN 'opted-out' WHEN s.address IS NOT NULL THEN 'suppressed' ELSE ${capSql} END`;
      reasonParams.push(...optIn.params, ...capParams);
      rangeSql.push(`${col} IS NOT NULL AND ${col} != ''`);
    }
    params.push(...reasonParams);
    const zones = plan.timing ?? { dueByZone: {}, defaultTimezone: 'UTC' };
    params.push(JSON.stringify(zones.dueByZone), zones.defaultTimezone);
    if (range.after !== null) params.push(range.after);
    if (range.upto !== null) params.push(range.upto);
    params.push(...audience.params);
    const due = `(SELECT value FROM json_each(?) WHERE key = coalesce(u.timezone, ?) || '|' || coalesce(json_extract(u.attributes, '$.quiet_hours'), ''))`;
    const sql = `SELECT u.id AS user_id, ${cols}, ${reason} AS skip_reason, ${due} AS due_at FROM ${from}
      WHERE ${[...rangeSql, `(${audience.sql})`].join(' AND ')}`;
    return { sql, params };
  }

  private noAddressCount(n: NotificationRow, channel: Channel, plan: FanoutPlan, range: { after: string | null; upto: string | null }): number {
    const audience = this.audienceFilter(n, plan);
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (range.after !== null) { clauses.push('u.id > ?'); params.push(range.after); }
    if (range.upto !== null) { clauses.push('u.id <= ?'); params.push(range.upto); }
    clauses.push(channel === 'push' ? 'NOT EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id AND d.active = 1)'
      : channel === 'email' ? "(u.email IS NULL OR u.email = '')" : "(u.phone IS NULL OR u.phone = '')");
    clauses.push(`(${audience.sql})`);
    params.push(...audience.params);
    return this.db.prepare(`SELECT count(*) FROM users u WHERE ${clauses.join(' AND ')}`).pluck().get(...params) as number;
  }

  /** Counts what a fan-out would write, per channel and skip reason; writes nothing. */
  async dryRun(n: NotificationRow, plan: FanoutPlan): Promise<{ audience: number; channels: Record<string, Record<string, number>> }> {
    const range = { after: null, upto: null };
    const out: Record<string, Record<string, number>> = {};
    for (const channel of n.channels) {
      const select = this.channelSelect(n, channel, plan, range);
      const rows = this.db.prepare(`SELECT coalesce(skip_reason, 'queued') AS k, count(*) AS c FROM (${select.sql}) GROUP BY k`).all(...select.params) as { k: string; c: number }[];
      out[channel] = Object.fromEntries(rows.map((r) => [r.k, r.c]));
      if (plan.countNoAddress) {
        const missing = this.noAddressCount(n, channel, plan, range);
        if (missing) out[channel]!['no-address'] = missing;
      }
    }
    const audience = this.audienceFilter(n, plan);
    const total = this.db.prepare(`SELECT count(*) FROM users u WHERE ${audience.sql}`).pluck().get(...audience.params) as number;
    return { audience: total, channels: out };
  }

  /**
   * Writes the deliveries of a notification in batches of users, resuming where an earlier fan-out
   * stopped. `onBatch` reports progress. Leaves the notification `active` (or `scheduled` rows for
   * a delivery time in the future) with its counts.
   */
  async fanOut(id: string, plan: FanoutPlan, options: { nextAt?: number; onBatch?: (users: number) => void; notification?: NotificationRow } = {}): Promise<NotificationRow> {
    const n = options.notification ?? (await this.require(id));
    const batchSize = plan.batchSize ?? FANOUT_BATCH;
    const audience = this.audienceFilter(n, plan);
    let after = (this.db.prepare('SELECT fanout_after FROM notifications WHERE id = ?').pluck().get(id) as string | null) ?? null;
    const counts: NotificationCounts = { ...n.counts, noAddress: { ...(n.counts.noAddress ?? {}) } };
    const nextAt = options.nextAt ?? this.clock.now();
    // The next batch: the largest user id among the next `batchSize` audience members, and how many.
    const first = this.db.prepare(`SELECT max(id) AS upto, count(*) AS n FROM (SELECT u.id FROM users u WHERE (${audience.sql}) ORDER BY u.id LIMIT ?)`);
    const next = this.db.prepare(`SELECT max(id) AS upto, count(*) AS n FROM (SELECT u.id FROM users u WHERE u.id > ? AND (${audience.sql}) ORDER BY u.id LIMIT ?)`);
    // Users written by earlier (resumed) passes count toward the audience too.
    let users = after === null ? 0 : (this.db.prepare(`SELECT count(*) FROM users u WHERE u.id <= ? AND (${audience.sql})`).pluck().get(after, ...audience.params) as number);
    for (;;) {
      const batch = (after === null ? first.get(...audience.params, batchSize) : next.get(after, ...audience.params, batchSize)) as { upto: string | null; n: number };
      const last = batch.n < batchSize;
      const now = this.clock.now();
      // Each batch is one transaction. A small send (one batch) also closes the fan-out in it, so it
      // commits once; a big one closes after its last batch, counting its deliveries outside any
      // write transaction (a count over a million rows would hold the write lock for most of a second).
      const closeHere = last && users === 0;
      let closed: NotificationDbRow | undefined;
      const outcome = this.db.transaction((): 'stopped' | 'more' | 'close' | 'done' => {
        // Paused or canceled meanwhile: stop here; a resume continues from fanout_after.
        const status = this.db.prepare('SELECT status FROM notifications WHERE id = ?').pluck().get(n.id);
        if (status !== 'fanning') return 'stopped';
        if (batch.upto !== null) this.writeBatch(n, plan, { after, upto: batch.upto }, nextAt, now, counts);
        if (!closeHere) {
          this.db.prepare('UPDATE notifications SET fanout_after = coalesce(?, fanout_after), counts = ?, fanout_until = ?, updated_at = ? WHERE id = ?')
            .run(batch.upto, JSON.stringify(counts), now + FANOUT_LEASE_MS, now, n.id);
          return last ? 'close' : 'more';
        }
        closed = this.close(n.id, { ...counts, ...this.deliveryCounts(n.id) }, batch.n, now);
        return 'done';
      }).immediate();
      if (outcome !== 'stopped') {
        users += batch.n;
        options.onBatch?.(users);
      }
      if (outcome === 'close') {
        const total = users;
        const closing = { ...counts, ...this.deliveryCounts(n.id) };
        this.db.transaction(() => {
          if (this.db.prepare('SELECT status FROM notifications WHERE id = ?').pluck().get(n.id) === 'fanning') this.close(n.id, closing, total, this.clock.now());
        }).immediate();
      }
      if (closed) return toNotification(closed);
      if (outcome !== 'more') return (await this.get(id))!;
      // Leave the write lock free for a moment before the next batch: a daemon's claim (in this
      // process or another) gets in between batches instead of waiting out the whole fan-out.
      await new Promise((resolve) => setTimeout(resolve, 3));
      after = batch.upto;
    }
  }

  /** Marks a fan-out finished: the notification becomes active with its audience and final counts. */
  private close(id: string, counts: NotificationCounts, audience: number, now: number): NotificationDbRow {
    return this.db.prepare(`UPDATE notifications SET status = 'active', counts = json_patch(counts, ?),
      fanout_owner = NULL, fanout_until = NULL, updated_at = ? WHERE id = ? RETURNING *`).get(JSON.stringify({ ...counts, audience }), now, id) as NotificationDbRow;
  }

  /**
   * INSERT … SELECT of one channel's deliveries from `select` (see channelSelect); `returning` names
   * columns to read back from the written rows.
   */
  private insertDeliveries(n: NotificationRow, select: SqlFilter, nextAt: number, now: number, returning: string): unknown[] {
    const insert = this.db.prepare(`INSERT INTO deliveries (notification_id, user_id, channel, provider, device_id, address, category, priority,
        status, skip_reason, next_at, created_at, updated_at)
      SELECT ?, x.user_id, x.channel, x.provider, x.device_id, x.address, ?, ?,
        CASE WHEN x.skip_reason IS NOT NULL THEN 'skipped' WHEN coalesce(x.due_at, ?) > ? THEN 'scheduled' ELSE 'queued' END,
        x.skip_reason, coalesce(x.due_at, ?), ?, ?
      FROM (${select.sql}) x WHERE true${returning ? ` RETURNING ${returning}` : ''}`);
    const params = [n.id, n.category, n.priority, nextAt, now, nextAt, now, now, ...select.params];
    if (returning) return insert.all(...params);
    insert.run(...params);
    return [];
  }

  /**
   * Records a notification to a list of users and writes all its deliveries in one transaction, with
   * its counts taken from the written rows: the path of real-time sends, a handful of statements in
   * all where create() and fanOut() take a dozen. No recipients rows: there is no later fan-out pass
   * to resume. Dedup by event id as in create(). For lists up to one fan-out batch.
   */
  async createAndFanOut(input: Omit<NotificationInput, 'audience' | 'status' | 'owner'> & { audience: { users: string[] } }, plan: FanoutPlan, nextAt: number): Promise<{ notification: NotificationRow; deduplicated: boolean }> {
    const now = this.clock.now();
    const users = input.audience.users;
    const n: NotificationRow = {
      id: newNotificationId(now), eventId: input.eventId ?? null, template: input.template, templateVersion: input.templateVersion,
      category: input.category, priority: input.priority, data: input.data, audience: { users: users.length }, channels: input.channels,
      isCampaign: false, status: 'active', source: input.source, appId: input.appId ?? null, sendAt: input.sendAt ?? null,
      timing: input.timing ?? null, counts: {}, createdAt: now, updatedAt: now,
    };
    const listed: FanoutPlan = { ...plan, users };
    const write = () => {
      const inserted = this.db.prepare(`INSERT INTO notifications (id, event_id, template, template_version, category, priority, data, audience,
          channels, is_campaign, status, source, app_id, send_at, timing, counts, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'active', ?, ?, ?, ?, '{}', ?, ?) ON CONFLICT (event_id) DO NOTHING`).run(
        n.id, n.eventId, n.template, n.templateVersion, n.category, n.priority, JSON.stringify(n.data), JSON.stringify(n.audience),
        JSON.stringify(n.channels), n.source, n.appId, n.sendAt, n.timing ? JSON.stringify(n.timing) : null, now, now).changes;
      if (!inserted) return false;
      const deliveries: Record<string, Record<string, number>> = {};
      const skipped: Partial<Record<SkipReason, number>> = {};
      const noAddress: Partial<Record<Channel, number>> = {};
      for (const channel of n.channels) {
        const rows = this.insertDeliveries(n, this.channelSelect(n, channel, listed, { after: null, upto: null }), nextAt, now, 'user_id, status, skip_reason') as
          { user_id: string; status: string; skip_reason: SkipReason | null }[];
        const byStatus: Record<string, number> = {};
        const reached = new Set<string>();
        for (const r of rows) {
          byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
          if (r.skip_reason) skipped[r.skip_reason] = (skipped[r.skip_reason] ?? 0) + 1;
          reached.add(r.user_id);
        }
        if (rows.length) deliveries[channel] = byStatus;
        // Every listed user exists (submit checked), and each with an address on the channel has a row,
        // skipped or not: the others have none.
        if (plan.countNoAddress && reached.size < users.length) noAddress[channel] = users.length - reached.size;
      }
      n.counts = { noAddress, deliveries, skipped, audience: users.length };
      this.db.prepare('UPDATE notifications SET counts = ? WHERE id = ?').run(JSON.stringify(n.counts), n.id);
      return true;
    };
    // In a group commit's transaction the group keeps the write whole (see GroupCommit.runAll): a
    // savepoint of its own would copy every page it changes once more.
    const written = this.db.inTransaction ? write() : this.db.transaction(write).immediate();
    if (!written) {
      const first = this.db.prepare('SELECT * FROM notifications WHERE event_id = ?').get(input.eventId) as NotificationDbRow;
      return { notification: toNotification(first), deduplicated: true };
    }
    return { notification: n, deduplicated: false };
  }

  /** One batch of users (after, upto]: every channel's deliveries, and the no-address counts. */
  private writeBatch(n: NotificationRow, plan: FanoutPlan, range: { after: string | null; upto: string }, nextAt: number, now: number, counts: NotificationCounts): void {
    for (const channel of n.channels) {
      this.insertDeliveries(n, this.channelSelect(n, channel, plan, range), nextAt, now, '');
      if (plan.countNoAddress) {
        const missing = this.noAddressCount(n, channel, plan, range);
        if (missing) counts.noAddress![channel] = (counts.noAddress![channel] ?? 0) + missing;
      }
    }
  }

  /** Distinct `<timezone>|<quiet_hours>` keys of the audience, for per-recipient timing. */
  async audienceZones(n: Pick<NotificationRow, 'id' | 'audience'>, plan: FanoutPlan, defaultTimezone: string): Promise<{ timezone: string; quiet: string }[]> {
    const audience = this.audienceFilter(n, plan);
    return this.db.prepare(`SELECT DISTINCT coalesce(u.timezone, ?) AS timezone, coalesce(json_extract(u.attributes, '$.quiet_hours'), '') AS quiet
      FROM users u WHERE ${audience.sql}`).all(defaultTimezone, ...audience.params) as { timezone: string; quiet: string }[];
  }

  /**
   * Takes notifications a daemon should fan out now: scheduled ones that are due, and fan-outs whose
   * process died (lease expired). Each is leased to `owner` by one atomic statement.
   */
  async claimFanouts(owner: string, limit = 10): Promise<NotificationRow[]> {
    const now = this.clock.now();
    const rows = this.db.prepare(`UPDATE notifications SET status = 'fanning', fanout_owner = ?, fanout_until = ?, updated_at = ?
      WHERE id IN (SELECT id FROM notifications WHERE (status = 'scheduled' AND send_at <= ?)
        OR (status = 'fanning' AND (fanout_until IS NULL OR fanout_until < ?)) ORDER BY priority, coalesce(send_at, created_at) LIMIT ?)
      RETURNING *`).all(owner, now + FANOUT_LEASE_MS, now, now, now, limit) as NotificationDbRow[];
    return rows.map(toNotification);
  }

  /**
   * Cancel: nothing more is sent; deliveries not yet final become canceled.
   * Pause: claims skip its deliveries until resume. Returns the notification after the change.
   */
  async setState(id: string, action: 'cancel' | 'pause' | 'resume'): Promise<NotificationRow> {
    const n = await this.require(id);
    const now = this.clock.now();
    const allowed: Record<typeof action, NotificationStatus[]> = {
      cancel: ['scheduled', 'fanning', 'active', 'paused'], pause: ['scheduled', 'fanning', 'active'], resume: ['paused'],
    };
    if (!allowed[action].includes(n.status)) {
      throw new InputError(`notification ${id} is ${n.status}: it cannot be ${action === 'cancel' ? 'canceled' : action === 'pause' ? 'paused' : 'resumed'}`);
    }
    this.db.transaction(() => {
      if (action === 'cancel') {
        this.db.prepare(`UPDATE deliveries SET status = 'canceled', updated_at = ? WHERE notification_id = ? AND status <> 'sending' AND status IN ('queued', 'scheduled', 'failed', 'paused')`).run(now, id);
        this.db.prepare(`UPDATE notifications SET status = 'canceled', fanout_owner = NULL, fanout_until = NULL, updated_at = ? WHERE id = ?`).run(now, id);
      } else if (action === 'pause') {
        this.db.prepare(`UPDATE deliveries SET status = 'paused', updated_at = ? WHERE notification_id = ? AND status <> 'sending' AND status IN ('queued', 'scheduled', 'failed')`).run(now, id);
        // Remember what to return to: a scheduled notification stays due at send_at; others resume fanning or active.
        const resumeTo = n.status === 'scheduled' ? 'scheduled' : n.status === 'fanning' ? 'fanning' : 'active';
        this.db.prepare(`UPDATE notifications SET status = 'paused', counts = json_set(counts, '$.resumeTo', ?), fanout_owner = NULL, fanout_until = NULL, updated_at = ? WHERE id = ?`).run(resumeTo, now, id);
      } else {
        this.db.prepare(`UPDATE deliveries SET status = CASE WHEN next_at > ? THEN 'scheduled' ELSE 'queued' END, updated_at = ? WHERE notification_id = ? AND status <> 'sending' AND status = 'paused'`).run(now, now, id);
        const resumeTo = (n.counts as { resumeTo?: NotificationStatus }).resumeTo ?? 'active';
        this.db.prepare(`UPDATE notifications SET status = ?, counts = json_remove(counts, '$.resumeTo'), updated_at = ? WHERE id = ?`).run(resumeTo, now, id);
      }
    }).immediate();
    return (await this.get(id))!;
  }

  /** Deliveries of a notification by channel and status, and skips by reason. */
  deliveryCounts(id: string): Pick<NotificationCounts, 'deliveries' | 'skipped'> {
    const rows = this.db.prepare(`SELECT channel, status, skip_reason, count(*) AS c FROM deliveries WHERE notification_id = ? AND status <> 'sending'
      GROUP BY channel, status, skip_reason
      UNION ALL SELECT channel, status, skip_reason, count(*) FROM deliveries WHERE status = 'sending' AND notification_id = ?
      GROUP BY channel, status, skip_reason`).all(id, id) as { channel: string; status: string; skip_reason: string | null; c: number }[];
    const deliveries: Record<string, Record<string, number>> = {};
    const skipped: Partial<Record<SkipReason, number>> = {};
    for (const r of rows) {
      deliveries[r.channel] ??= {};
      deliveries[r.channel]![r.status] = (deliveries[r.channel]![r.status] ?? 0) + r.c;
      if (r.skip_reason) skipped[r.skip_reason as SkipReason] = (skipped[r.skip_reason as SkipReason] ?? 0) + r.c;
    }
    return { deliveries, skipped };
  }

  /** Deliveries not yet final (queued, sending, failed, scheduled). */
  async pending(id: string): Promise<number> {
    return this.db.prepare(`SELECT (SELECT count(*) FROM deliveries WHERE notification_id = ? AND status <> 'sending' AND status IN ('queued', 'failed', 'scheduled'))
      + (SELECT count(*) FROM deliveries WHERE status = 'sending' AND notification_id = ?)`).pluck().get(id, id) as number;
  }

  /** Marks active notifications whose deliveries are all final as done. Returns how many. */
  async completeFinished(): Promise<number> {
    const now = this.clock.now();
    return this.db.prepare(`UPDATE notifications SET status = 'done', updated_at = ? WHERE status = 'active' AND NOT EXISTS (
        SELECT 1 FROM deliveries d WHERE d.notification_id = notifications.id AND d.status <> 'sending' AND d.status IN ('queued', 'failed', 'scheduled'))
      AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.status = 'sending' AND d.notification_id = notifications.id)`).run(now).changes;
  }

  /** Progress of running campaigns: deliveries to make (skips excluded) and those final; index-only counts. */
  async progress(): Promise<CampaignProgress[]> {
    const running = this.db.prepare(`SELECT id, template FROM notifications WHERE status IN ('fanning', 'active') AND is_campaign = 1 ORDER BY created_at LIMIT 20`)
      .all() as { id: string; template: string }[];
    const byStatus = this.db.prepare(`SELECT status, count(*) AS n FROM deliveries WHERE notification_id = ? AND status <> 'sending' GROUP BY status
      UNION ALL SELECT 'sending', count(*) FROM deliveries WHERE status = 'sending' AND notification_id = ?`);
    return running.map(({ id, template }) => {
      const counts = Object.fromEntries((byStatus.all(id, id) as { status: string; n: number }[]).map((r) => [r.status, r.n]));
      const total = Object.entries(counts).filter(([s]) => s !== 'skipped' && s !== 'canceled').reduce((a, [, n]) => a + n, 0);
      return { id, template, total, done: (counts.sent ?? 0) + (counts.dead ?? 0), sent: counts.sent ?? 0, dead: counts.dead ?? 0 };
    });
  }
}
