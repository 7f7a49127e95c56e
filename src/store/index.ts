/**
 * The store: the only code that speaks SQL. Its API is asynchronous so that another engine
 * (PostgreSQL) can stand behind it without touching commands or the daemon.
 */
import type { Clock } from '../core/time.js';
import { openDatabase, translateSqliteError, type Database, type OpenOptions } from './db.js';
import { UserStore } from './users.js';
import { DeviceStore } from './devices.js';
import { PreferenceStore } from './prefs.js';
import { TemplateStore } from './templates.js';
import { SegmentStore } from './segments.js';
import { OutboxStore } from './outbox.js';
import { NotificationStore } from './notifications.js';
import { ScheduleStore } from './schedules.js';
import { TrackingStore } from './tracking.js';
import { StatsStore } from './stats.js';
import { AppStore } from './apps.js';
import { GroupCommit } from './group-commit.js';

export class Store {
  readonly users: UserStore;
  readonly devices: DeviceStore;
  readonly prefs: PreferenceStore;
  readonly templates: TemplateStore;
  readonly segments: SegmentStore;
  readonly outbox: OutboxStore;
  readonly notifications: NotificationStore;
  readonly schedules: ScheduleStore;
  readonly tracking: TrackingStore;
  readonly stats: StatsStore;
  readonly apps: AppStore;
  /** Shares one transaction among writes that arrive together (the API's sends). */
  readonly group: GroupCommit;
  private closed = false;

  constructor(readonly db: Database, readonly clock: Clock, readonly path: string) {
    this.users = new UserStore(db, clock);
    this.devices = new DeviceStore(db, clock);
    this.prefs = new PreferenceStore(db, clock);
    this.templates = new TemplateStore(db, clock);
    this.segments = new SegmentStore(db, clock);
    this.outbox = new OutboxStore(db, clock);
    this.notifications = new NotificationStore(db, clock);
    this.schedules = new ScheduleStore(db, clock);
    this.tracking = new TrackingStore(db, clock);
    this.stats = new StatsStore(db, clock);
    this.apps = new AppStore(db, clock);
    this.group = new GroupCommit(db);
  }

  /** Runs `fn` in one transaction (BEGIN IMMEDIATE). */
  async transaction<T>(fn: () => T): Promise<T> {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      throw translateSqliteError(err, this.path);
    }
  }

  /** Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

export async function openStore(path: string, clock: Clock, options: OpenOptions = {}): Promise<Store> {
  return new Store(openDatabase(path, options), clock, path);
}
