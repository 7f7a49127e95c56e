/**
 * Apps: the API's clients, each with a key, a secret, scopes and a rate. The secret is generated here,
 * returned once to the caller, and stored only as its SHA-256: secrets are 32 random bytes, so a fast
 * hash is as strong as a slow KDF would be and keeps authentication cheap at thousands of requests a
 * second. Also the engagement log (opened / clicked / dismissed) that apps report.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Database } from './db.js';
import type { Clock } from '../core/time.js';
import { InputError, NotFoundError } from '../errors.js';

/** What an app key may do. send: post and read notifications; contacts: users and devices; preferences; events: engagement. */
export const APP_SCOPES = ['send', 'contacts', 'preferences', 'events'] as const;
export type AppScope = (typeof APP_SCOPES)[number];

export const ENGAGEMENT_TYPES = ['opened', 'clicked', 'dismissed'] as const;
export type EngagementType = (typeof ENGAGEMENT_TYPES)[number];

/** Requests per second an app may make when created without a rate. */
export const DEFAULT_APP_RATE = 200;

export interface App {
  id: string;
  name: string;
  /** The public half of the credentials (`ak_...`). */
  key: string;
  scopes: AppScope[];
  ratePerSec: number;
  revokedAt: string | null;
  createdAt: string;
  rotatedAt: string | null;
}

/** An app as authentication needs it: with the secret's hash. */
export interface AppWithHash extends App {
  secretHash: Buffer;
}

export interface CreateAppInput {
  name: string;
  /** Default: every scope. */
  scopes?: AppScope[];
  /** Default DEFAULT_APP_RATE. */
  ratePerSec?: number;
}

/** A freshly made secret: shown once, never stored. */
export interface AppWithSecret {
  app: App;
  secret: string;
}

export interface EngagementInput {
  notificationId: string;
  type: EngagementType;
  /** Epoch ms the person engaged. */
  at: number;
  deliveryId?: number;
  userId?: string;
  appId?: string;
  /** api (an app reported it) or link (a tracking link). */
  source: string;
}

export interface EngagementEvent {
  id: number;
  notificationId: string;
  deliveryId: number | null;
  userId: string | null;
  type: EngagementType;
  at: number;
  appId: string | null;
  source: string;
  createdAt: number;
}

interface AppRow {
  id: string; name: string; key: string; secret_hash: string; scopes: string; rate_per_sec: number;
  revoked_at: number | null; created_at: number; rotated_at: number | null;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function toApp(r: AppRow): App {
  return {
    id: r.id, name: r.name, key: r.key, scopes: JSON.parse(r.scopes) as AppScope[], ratePerSec: r.rate_per_sec,
    revokedAt: iso(r.revoked_at), createdAt: iso(r.created_at)!, rotatedAt: iso(r.rotated_at),
  };
}

/** `ak_` + 16 random bytes, base64url. */
export function newAppKey(): string {
  return 'ak_' + randomBytes(16).toString('base64url');
}

/** `sk_` + 32 random bytes, base64url. */
export function newAppSecret(): string {
  return 'sk_' + randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Compares a presented secret with a stored hash in constant time. */
export function secretMatches(secret: string, hash: Buffer): boolean {
  const presented = hashSecret(secret);
  return presented.length === hash.length && timingSafeEqual(presented, hash);
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkAppName(name: string): string {
  if (!NAME_RE.test(name)) throw new InputError(`"${name}" is not an app name (1-64 letters, digits, ".", "-" or "_", starting with a letter or digit)`, { field: 'name' });
  return name;
}

export function checkScopes(scopes: readonly string[]): AppScope[] {
  if (scopes.length === 0) throw new InputError(`give at least one scope: ${APP_SCOPES.join(', ')}`, { field: 'scopes' });
  for (const s of scopes) {
    if (!(APP_SCOPES as readonly string[]).includes(s)) throw new InputError(`"${s}" is not a scope: use ${APP_SCOPES.join(', ')}`, { field: 'scopes' });
  }
  return [...new Set(scopes)] as AppScope[];
}

export class AppStore {
  /** Statements on the API's hot path, prepared once. */
  private hot?: { byKey: Statement; ping: Statement };

  constructor(private db: Database, private clock: Clock) {}

  private get s() {
    return (this.hot ??= {
      byKey: this.db.prepare('SELECT * FROM apps WHERE key = ?'),
      ping: this.db.prepare('SELECT 1 FROM apps LIMIT 1'),
    });
  }

  /** Creates an app with a new key and secret; the secret is in the result and nowhere else. */
  async create(input: CreateAppInput): Promise<AppWithSecret> {
    const name = checkAppName(input.name);
    const scopes = checkScopes(input.scopes ?? [...APP_SCOPES]);
    const rate = input.ratePerSec ?? DEFAULT_APP_RATE;
    if (!(rate > 0) || !Number.isFinite(rate)) throw new InputError('the rate must be a positive number of requests per second', { field: 'rate' });
    const now = this.clock.now();
    const id = 'app_' + randomBytes(8).toString('base64url');
    const key = newAppKey();
    const secret = newAppSecret();
    try {
      this.db.prepare(`INSERT INTO apps (id, name, key, secret_hash, scopes, rate_per_sec, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
        .run(id, name, key, hashSecret(secret).toString('hex'), JSON.stringify(scopes), rate, now);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new InputError(`an app named "${name}" already exists (revoked apps keep their names): choose another name, or "notify apps rotate ${name}" for a new secret`, { field: 'name' });
      }
      throw err;
    }
    return { app: (await this.get(id))!, secret };
  }

  /** By id, name or key. */
  async get(ref: string): Promise<App | undefined> {
    const row = this.db.prepare('SELECT * FROM apps WHERE id = ? OR name = ? OR key = ?').get(ref, ref, ref) as AppRow | undefined;
    return row && toApp(row);
  }

  async require(ref: string): Promise<App> {
    const app = await this.get(ref);
    if (!app) throw new NotFoundError(`no app "${ref}": see "notify apps list"`);
    return app;
  }

  /** Oldest first; revoked ones too unless `activeOnly`. */
  async list(options: { activeOnly?: boolean } = {}): Promise<App[]> {
    const rows = this.db.prepare(`SELECT * FROM apps ${options.activeOnly ? 'WHERE revoked_at IS NULL' : ''} ORDER BY created_at, name`).all() as AppRow[];
    return rows.map(toApp);
  }

  /** For authentication: the app with this key and its secret's hash, revoked or not. */
  async findByKey(key: string): Promise<AppWithHash | undefined> {
    const row = this.s.byKey.get(key) as AppRow | undefined;
    return row && { ...toApp(row), secretHash: Buffer.from(row.secret_hash, 'hex') };
  }

  /** Revokes an app's key for good. Revoking twice keeps the first time. */
  async revoke(ref: string): Promise<App> {
    const app = await this.require(ref);
    this.db.prepare('UPDATE apps SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(this.clock.now(), app.id);
    return (await this.get(app.id))!;
  }

  /** Replaces the secret (the key stays); the old secret stops working. A revoked app cannot be rotated. */
  async rotate(ref: string): Promise<AppWithSecret> {
    const app = await this.require(ref);
    if (app.revokedAt) throw new InputError(`app "${app.name}" is revoked: create a new one with "notify apps create"`, { field: 'name' });
    const secret = newAppSecret();
    this.db.prepare('UPDATE apps SET secret_hash = ?, rotated_at = ? WHERE id = ?').run(hashSecret(secret).toString('hex'), this.clock.now(), app.id);
    return { app: (await this.get(app.id))!, secret };
  }

  /** A cheap read proving the database answers (readiness checks). */
  async ping(): Promise<void> {
    this.s.ping.get();
  }

  /**
   * Records one engagement event. The notification must exist (NotFoundError otherwise); a delivery id
   * must belong to it (InputError), and the user id is taken from the delivery when not given.
   */
  async recordEngagement(input: EngagementInput): Promise<EngagementEvent> {
    if (!(ENGAGEMENT_TYPES as readonly string[]).includes(input.type)) {
      throw new InputError(`"${input.type}" is not an engagement type: use ${ENGAGEMENT_TYPES.join(', ')}`, { field: 'type' });
    }
    const now = this.clock.now();
    const row = this.db.transaction(() => {
      if (!this.db.prepare('SELECT 1 FROM notifications WHERE id = ?').pluck().get(input.notificationId)) {
        throw new NotFoundError(`no notification "${input.notificationId}": use the id the API returned when it was sent`);
      }
      let userId = input.userId ?? null;
      if (input.deliveryId !== undefined) {
        const d = this.db.prepare('SELECT user_id FROM deliveries WHERE id = ? AND notification_id = ?').get(input.deliveryId, input.notificationId) as { user_id: string } | undefined;
        if (!d) throw new InputError(`delivery ${input.deliveryId} is not part of notification "${input.notificationId}"`, { field: 'delivery_id' });
        if (userId !== null && userId !== d.user_id) throw new InputError(`delivery ${input.deliveryId} went to another user than "${userId}"`, { field: 'user_id' });
        userId = d.user_id;
      }
      return this.db.prepare(`INSERT INTO engagement_events (notification_id, delivery_id, user_id, type, at, app_id, source, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`).get(input.notificationId, input.deliveryId ?? null, userId, input.type, input.at,
        input.appId ?? null, input.source, now) as Record<string, unknown>;
    }).immediate();
    return toEngagement(row);
  }

  /** A notification's engagement events, oldest first. */
  async engagement(notificationId: string): Promise<EngagementEvent[]> {
    const rows = this.db.prepare('SELECT * FROM engagement_events WHERE notification_id = ? ORDER BY at, id').all(notificationId) as Record<string, unknown>[];
    return rows.map(toEngagement);
  }
}

function toEngagement(r: Record<string, unknown>): EngagementEvent {
  return {
    id: r.id as number, notificationId: r.notification_id as string, deliveryId: r.delivery_id as number | null,
    userId: r.user_id as string | null, type: r.type as EngagementType, at: r.at as number, appId: r.app_id as string | null,
    source: r.source as string, createdAt: r.created_at as number,
  };
}
