/**
 * Preferences (a person's opt-in per channel and category, with the consent trail) and suppressions
 * (addresses that must not be sent to, whoever they belong to). Resolution rules live in core/policy.ts;
 * `optedInSql` is the same rules as SQL for set-based fan-out.
 */
import type { Database } from './db.js';
import type { Clock } from '../core/time.js';
import { CHANNELS, type Channel } from '../core/types.js';
import { ALL_CATEGORIES, PREFERENCE_SOURCES, type Preference } from '../core/policy.js';
import { InputError, NotFoundError } from '../errors.js';
import type { SqlFilter } from './users.js';

/** One choice to record. */
export interface PreferenceChange {
  userId: string;
  channel: Channel;
  /** A category, or '*' for the whole channel. */
  category: string;
  optIn: boolean;
  /** cli, api, import, unsubscribe or provider. */
  source: string;
}

/** One entry of the consent trail. */
export interface PreferenceHistoryEntry {
  id: number;
  userId: string;
  channel: Channel;
  category: string;
  optIn: boolean;
  source: string;
  at: string;
}

export interface SetPreferencesResult {
  /** Changes that altered a stored choice (and were appended to the trail). */
  changed: number;
  /** Changes that repeated the stored choice: nothing written. */
  unchanged: number;
}

export interface Suppression {
  channel: Channel;
  address: string;
  reason: string;
  at: string;
}

interface PreferenceRow { user_id: string; channel: Channel; category: string; opt_in: number; source: string; updated_at: number }
interface HistoryRow { id: number; user_id: string; channel: Channel; category: string; opt_in: number; source: string; at: number }
interface SuppressionRow { channel: Channel; address: string; reason: string; at: number }

function toPreference(r: PreferenceRow): Preference {
  return { userId: r.user_id, channel: r.channel, category: r.category, optIn: r.opt_in === 1, source: r.source, updatedAt: new Date(r.updated_at).toISOString() };
}

function toSuppression(r: SuppressionRow): Suppression {
  return { channel: r.channel, address: r.address, reason: r.reason, at: new Date(r.at).toISOString() };
}

function checkChannelName(channel: string): void {
  if (!(CHANNELS as readonly string[]).includes(channel)) throw new InputError(`"${channel}" is not a channel: use push, sms or email`, { field: 'channel' });
}

export class PreferenceStore {
  constructor(private db: Database, private clock: Clock) {}

  /**
   * Records choices in one transaction; each change that alters the stored choice is appended to the
   * consent trail in the same transaction. Repeating the stored choice writes nothing, so the trail keeps
   * the time consent was actually given and re-running an import does not grow it.
   * Unknown users are a NotFoundError and nothing is written.
   */
  async set(changes: PreferenceChange[]): Promise<SetPreferencesResult> {
    for (const c of changes) {
      checkChannelName(c.channel);
      if (!c.category) throw new InputError('a preference needs a category, or "*" for the whole channel', { field: 'category' });
      if (!(PREFERENCE_SOURCES as readonly string[]).includes(c.source)) {
        throw new InputError(`"${c.source}" is not a preference source: use one of ${PREFERENCE_SOURCES.join(', ')}`, { field: 'source' });
      }
    }
    const now = this.clock.now();
    const userExists = this.db.prepare('SELECT 1 FROM users WHERE id = ?').pluck();
    const current = this.db.prepare('SELECT opt_in FROM preferences WHERE user_id = ? AND channel = ? AND category = ?').pluck();
    const upsert = this.db.prepare(`INSERT INTO preferences (user_id, channel, category, opt_in, source, updated_at)
      VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (user_id, channel, category) DO UPDATE SET opt_in = excluded.opt_in, source = excluded.source, updated_at = excluded.updated_at`);
    const append = this.db.prepare('INSERT INTO preference_history (user_id, channel, category, opt_in, source, at) VALUES (?, ?, ?, ?, ?, ?)');
    const result: SetPreferencesResult = { changed: 0, unchanged: 0 };
    this.db.transaction(() => {
      for (const c of changes) {
        if (!userExists.get(c.userId)) throw new NotFoundError(`no user "${c.userId}": check the id with "notify users list"`);
        const optIn = c.optIn ? 1 : 0;
        if (current.get(c.userId, c.channel, c.category) === optIn) {
          result.unchanged++;
          continue;
        }
        upsert.run(c.userId, c.channel, c.category, optIn, c.source, now);
        append.run(c.userId, c.channel, c.category, optIn, c.source, now);
        result.changed++;
      }
    }).immediate();
    return result;
  }

  /** A person's stored choices (not the effective ones: see core/policy.ts). */
  async get(userId: string): Promise<Preference[]> {
    const rows = this.db.prepare('SELECT * FROM preferences WHERE user_id = ? ORDER BY channel, category').all(userId) as PreferenceRow[];
    return rows.map(toPreference);
  }

  /** The consent trail, oldest first. */
  async history(userId: string): Promise<PreferenceHistoryEntry[]> {
    const rows = this.db.prepare('SELECT * FROM preference_history WHERE user_id = ? ORDER BY at, id').all(userId) as HistoryRow[];
    return rows.map((r) => ({ id: r.id, userId: r.user_id, channel: r.channel, category: r.category, optIn: r.opt_in === 1, source: r.source, at: new Date(r.at).toISOString() }));
  }

  /**
   * A boolean SQL expression over the users table aliased `u`: true when u is opted in to `channel` +
   * `category`. Same precedence as core/policy.ts: the category row, else the channel's '*' row, else
   * `defaultOptIn` (pass `defaultOptIn(category, config)`).
   */
  optedInSql(channel: string, category: string, defaultOptIn: boolean): SqlFilter {
    return {
      sql: `COALESCE(
        (SELECT p.opt_in FROM preferences p WHERE p.user_id = u.id AND p.channel = ? AND p.category = ?),
        (SELECT p.opt_in FROM preferences p WHERE p.user_id = u.id AND p.channel = ? AND p.category = '${ALL_CATEGORIES}'),
        ?) = 1`,
      params: [channel, category, channel, defaultOptIn ? 1 : 0],
    };
  }

  /** Records (or replaces the reason of) a suppressed address. */
  async suppress(channel: Channel, address: string, reason: string): Promise<Suppression> {
    checkChannelName(channel);
    const now = this.clock.now();
    this.db.prepare(`INSERT INTO suppressions (channel, address, reason, at) VALUES (?, ?, ?, ?)
      ON CONFLICT (channel, address) DO UPDATE SET reason = excluded.reason, at = excluded.at`).run(channel, address, reason, now);
    return { channel, address, reason, at: new Date(now).toISOString() };
  }

  async isSuppressed(channel: Channel, address: string): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM suppressions WHERE channel = ? AND address = ?').pluck().get(channel, address) === 1;
  }

  /** Newest first. */
  async listSuppressions(options: { channel?: Channel } = {}): Promise<Suppression[]> {
    const rows = (options.channel
      ? this.db.prepare('SELECT * FROM suppressions WHERE channel = ? ORDER BY at DESC, address').all(options.channel)
      : this.db.prepare('SELECT * FROM suppressions ORDER BY at DESC, channel, address').all()) as SuppressionRow[];
    return rows.map(toSuppression);
  }

  /** Returns false when the address was not suppressed. */
  async unsuppress(channel: Channel, address: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM suppressions WHERE channel = ? AND address = ?').run(channel, address).changes > 0;
  }

  /**
   * A boolean SQL expression, true when the address in `addressSql` (an SQL expression such as `u.email`)
   * is suppressed on `channel`. For fan-out: `NOT (${suppressedSql('email', 'u.email').sql})`.
   */
  suppressedSql(channel: string, addressSql: string): SqlFilter {
    return { sql: `EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = ? AND s.address = ${addressSql})`, params: [channel] };
  }
}
