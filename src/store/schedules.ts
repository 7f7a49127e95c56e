/** Recurring schedules and the record of each occurrence (unique per schedule and time). */
import type { Database } from './db.js';
import type { Clock } from '../core/time.js';
import type { Channel, Priority } from '../core/types.js';
import { InputError, NotFoundError } from '../errors.js';

export interface Schedule {
  name: string;
  cron: string;
  timezone: string;
  template: string;
  segment: string;
  channels: Channel[] | null;
  data: Record<string, unknown>;
  priority: Priority | null;
  catchUp: 'skip' | 'once';
  paused: boolean;
  nextRunAt: number | null;
  lastRunAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface ScheduleRun {
  schedule: string;
  occurrence: number;
  status: 'ran' | 'skipped' | 'failed';
  notificationId: string | null;
  detail: string | null;
  at: number;
}

export type ScheduleInput = Omit<Schedule, 'paused' | 'lastRunAt' | 'createdAt' | 'updatedAt'>;

interface Row {
  name: string; cron: string; timezone: string; template: string; segment: string; channels: string | null; data: string;
  priority: string | null; catch_up: 'skip' | 'once'; paused: number; next_run_at: number | null; last_run_at: number | null;
  created_at: number; updated_at: number;
}

function toSchedule(r: Row): Schedule {
  return {
    name: r.name, cron: r.cron, timezone: r.timezone, template: r.template, segment: r.segment,
    channels: r.channels ? JSON.parse(r.channels) : null, data: JSON.parse(r.data), priority: r.priority as Priority | null,
    catchUp: r.catch_up, paused: r.paused === 1, nextRunAt: r.next_run_at, lastRunAt: r.last_run_at, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

export class ScheduleStore {
  constructor(private db: Database, private clock: Clock) {}

  async add(input: ScheduleInput): Promise<Schedule> {
    const now = this.clock.now();
    try {
      this.db.prepare(`INSERT INTO schedules (name, cron, timezone, template, segment, channels, data, priority, catch_up, next_run_at, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(input.name, input.cron, input.timezone, input.template, input.segment,
        input.channels ? JSON.stringify(input.channels) : null, JSON.stringify(input.data), input.priority, input.catchUp, input.nextRunAt, now, now);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new InputError(`schedule "${input.name}" already exists: remove it first or pick another name`);
      throw err;
    }
    return (await this.get(input.name))!;
  }

  async get(name: string): Promise<Schedule | undefined> {
    const row = this.db.prepare('SELECT * FROM schedules WHERE name = ?').get(name) as Row | undefined;
    return row && toSchedule(row);
  }

  async require(name: string): Promise<Schedule> {
    const s = await this.get(name);
    if (!s) throw new NotFoundError(`no schedule "${name}": see "notify schedule list"`);
    return s;
  }

  async list(): Promise<Schedule[]> {
    return (this.db.prepare('SELECT * FROM schedules ORDER BY name').all() as Row[]).map(toSchedule);
  }

  async remove(name: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM schedules WHERE name = ?').run(name).changes > 0;
  }

  /** Pauses, or resumes with the next occurrence to wait for. */
  async setPaused(name: string, paused: boolean, nextRunAt?: number | null): Promise<Schedule> {
    await this.require(name);
    const now = this.clock.now();
    this.db.prepare('UPDATE schedules SET paused = ?, next_run_at = coalesce(?, next_run_at), updated_at = ? WHERE name = ?')
      .run(paused ? 1 : 0, nextRunAt ?? null, now, name);
    return (await this.get(name))!;
  }

  /** Active schedules whose next occurrence has come. */
  async due(): Promise<Schedule[]> {
    return (this.db.prepare('SELECT * FROM schedules WHERE paused = 0 AND next_run_at IS NOT NULL AND next_run_at <= ? ORDER BY next_run_at')
      .all(this.clock.now()) as Row[]).map(toSchedule);
  }

  /**
   * Claims one occurrence: true when this caller is the first to record it. The primary key makes a
   * second daemon, or a restart, unable to run it twice.
   */
  async claimRun(name: string, occurrence: number, status: ScheduleRun['status'], detail?: string): Promise<boolean> {
    return this.db.prepare(`INSERT INTO schedule_runs (schedule, occurrence, status, detail, at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (schedule, occurrence) DO NOTHING`).run(name, occurrence, status, detail ?? null, this.clock.now()).changes === 1;
  }

  async finishRun(name: string, occurrence: number, result: { status: ScheduleRun['status']; notificationId?: string; detail?: string }): Promise<void> {
    this.db.prepare('UPDATE schedule_runs SET status = ?, notification_id = ?, detail = coalesce(?, detail) WHERE schedule = ? AND occurrence = ?')
      .run(result.status, result.notificationId ?? null, result.detail ?? null, name, occurrence);
  }

  /** Moves the next occurrence forward, only if nobody else did (compare-and-set on `from`). */
  async advance(name: string, from: number, to: number | null, ranAt?: number): Promise<boolean> {
    return this.db.prepare(`UPDATE schedules SET next_run_at = ?, last_run_at = coalesce(?, last_run_at), updated_at = ?
      WHERE name = ? AND next_run_at = ?`).run(to, ranAt ?? null, this.clock.now(), name, from).changes === 1;
  }

  async runs(name: string, limit = 20): Promise<ScheduleRun[]> {
    const rows = this.db.prepare('SELECT * FROM schedule_runs WHERE schedule = ? ORDER BY occurrence DESC LIMIT ?').all(name, limit) as
      { schedule: string; occurrence: number; status: ScheduleRun['status']; notification_id: string | null; detail: string | null; at: number }[];
    return rows.map((r) => ({ schedule: r.schedule, occurrence: r.occurrence, status: r.status, notificationId: r.notification_id, detail: r.detail, at: r.at }));
  }
}
