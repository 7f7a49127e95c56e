/**
 * Devices: app installs and browsers that receive push. A device is keyed by (platform, token): the same
 * token registered again belongs to whoever registered it last (a phone changes hands) and is active
 * again. Devices are deactivated, never deleted, so the history of what was sent where stays readable.
 * Tokens are validated by the callers (core/validate.ts); the store only guards its invariants.
 */
import type { Database } from './db.js';
import type { Clock } from '../core/time.js';
import { PLATFORMS, type Device, type Platform, type WebPushSubscription } from '../core/types.js';
import { InputError, NotFoundError } from '../errors.js';

export interface DeviceInput {
  userId: string;
  platform: Platform;
  /** APNs or FCM token; for web, the subscription's endpoint (taken from `subscription` when absent). */
  token?: string;
  /** Web only. */
  subscription?: WebPushSubscription | null;
}

export interface RegisterResult {
  device: Device;
  /** The token belonged to another user before. */
  moved: boolean;
  /** The token was new. */
  created: boolean;
  /** The user it belonged to before, when moved. */
  previousUserId?: string;
}

export interface ListDevicesOptions {
  userId?: string;
  platform?: Platform;
  /** Include deactivated devices. Default false: active devices only. */
  inactive?: boolean;
  /** Default 100. */
  limit?: number;
  /** Devices with an id above this one (keyset paging). */
  after?: number;
}

/** A device by id, or by what a provider reports back: its platform and token. */
export type DeviceRef = number | { platform: Platform; token: string };

interface DeviceRow {
  id: number; user_id: string; platform: Platform; token: string; subscription: string | null; active: number;
  deactivated_at: number | null; deactivated_reason: string | null; created_at: number; updated_at: number;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function toDevice(r: DeviceRow): Device {
  return {
    id: r.id, userId: r.user_id, platform: r.platform, token: r.token,
    subscription: r.subscription ? (JSON.parse(r.subscription) as WebPushSubscription) : null,
    active: r.active === 1,
    deactivatedAt: r.deactivated_at === null ? null : iso(r.deactivated_at),
    deactivatedReason: r.deactivated_reason,
    createdAt: iso(r.created_at), updatedAt: iso(r.updated_at),
  };
}

export class DeviceStore {
  constructor(private db: Database, private clock: Clock) {}

  /** Registers one device: an upsert on (platform, token) that re-activates it and moves it to `userId`. */
  async register(input: DeviceInput): Promise<RegisterResult> {
    const [result] = await this.registerMany([input]);
    return result!;
  }

  /** Registers devices in one transaction (imports). Unknown users are a NotFoundError and nothing is written. */
  async registerMany(inputs: DeviceInput[]): Promise<RegisterResult[]> {
    const prepared = inputs.map(checkInput);
    const now = this.clock.now();
    const userExists = this.db.prepare('SELECT 1 FROM users WHERE id = ?').pluck();
    const find = this.db.prepare('SELECT * FROM devices WHERE platform = ? AND token = ?');
    const insert = this.db.prepare(`INSERT INTO devices (user_id, platform, token, subscription, active, created_at, updated_at)
      VALUES (?, ?, ?, ?, 1, ?, ?) RETURNING *`);
    const update = this.db.prepare(`UPDATE devices SET user_id = ?, subscription = ?, active = 1, deactivated_at = NULL,
      deactivated_reason = NULL, updated_at = ? WHERE id = ? RETURNING *`);
    return this.db.transaction(() => prepared.map((d): RegisterResult => {
      if (!userExists.get(d.userId)) throw new NotFoundError(`no user "${d.userId}": check the id with "notify users list"`);
      const subscription = d.subscription ? JSON.stringify(d.subscription) : null;
      const before = find.get(d.platform, d.token) as DeviceRow | undefined;
      if (!before) {
        return { device: toDevice(insert.get(d.userId, d.platform, d.token, subscription, now, now) as DeviceRow), moved: false, created: true };
      }
      const device = toDevice(update.get(d.userId, subscription, now, before.id) as DeviceRow);
      const moved = before.user_id !== d.userId;
      return moved ? { device, moved, created: false, previousUserId: before.user_id } : { device, moved, created: false };
    })).immediate();
  }

  async get(id: number): Promise<Device | undefined> {
    const row = this.db.prepare('SELECT * FROM devices WHERE id = ?').get(id) as DeviceRow | undefined;
    return row && toDevice(row);
  }

  async require(id: number): Promise<Device> {
    const device = await this.get(id);
    if (!device) throw new NotFoundError(`no device ${id}: check the id with "notify devices list --inactive"`);
    return device;
  }

  /** A user's devices, oldest first; active ones only unless `inactive`. */
  async listForUser(userId: string, options: { inactive?: boolean } = {}): Promise<Device[]> {
    const rows = this.db.prepare(`SELECT * FROM devices WHERE user_id = ? ${options.inactive ? '' : 'AND active = 1'} ORDER BY id`)
      .all(userId) as DeviceRow[];
    return rows.map(toDevice);
  }

  async list(options: ListDevicesOptions = {}): Promise<Device[]> {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (options.userId !== undefined) {
      clauses.push('user_id = ?');
      params.push(options.userId);
    }
    if (options.platform !== undefined) {
      clauses.push('platform = ?');
      params.push(options.platform);
    }
    if (!options.inactive) clauses.push('active = 1');
    if (options.after !== undefined) {
      clauses.push('id > ?');
      params.push(options.after);
    }
    const sql = `SELECT * FROM devices ${clauses.length ? 'WHERE ' + clauses.join(' AND ') : ''} ORDER BY id LIMIT ?`;
    return (this.db.prepare(sql).all(...params, options.limit ?? 100) as DeviceRow[]).map(toDevice);
  }

  /**
   * Marks a device inactive with a reason (removed, unregistered, invalid-token, ...) and the time.
   * A device already inactive keeps its first reason and time. Returns the device, or undefined when
   * there is no such device.
   */
  async deactivate(ref: DeviceRef, reason: string): Promise<Device | undefined> {
    const now = this.clock.now();
    const where = typeof ref === 'number' ? 'id = ?' : 'platform = ? AND token = ?';
    const params = typeof ref === 'number' ? [ref] : [ref.platform, ref.token];
    this.db.prepare(`UPDATE devices SET active = 0, deactivated_at = ?, deactivated_reason = ?, updated_at = ?
      WHERE ${where} AND active = 1`).run(now, reason, now, ...params);
    const row = this.db.prepare(`SELECT * FROM devices WHERE ${where}`).get(...params) as DeviceRow | undefined;
    return row && toDevice(row);
  }

  /** Deactivates with reason "removed". */
  async remove(id: number): Promise<Device | undefined> {
    return this.deactivate(id, 'removed');
  }
}

function checkInput(d: DeviceInput): Required<Omit<DeviceInput, 'subscription'>> & { subscription: WebPushSubscription | null } {
  if (!(PLATFORMS as readonly string[]).includes(d.platform)) throw new InputError(`"${d.platform}" is not a platform: use ios, android or web`, { field: 'platform' });
  if (d.platform === 'web' && !d.subscription) throw new InputError('a web device needs its Web Push subscription', { field: 'subscription' });
  if (d.platform !== 'web' && d.subscription) throw new InputError(`an ${d.platform} device has a token, not a subscription`, { field: 'subscription' });
  const token = d.token ?? d.subscription?.endpoint;
  if (!token) throw new InputError(`an ${d.platform} device needs its token`, { field: 'token' });
  return { userId: d.userId, platform: d.platform, token, subscription: d.subscription ?? null };
}
