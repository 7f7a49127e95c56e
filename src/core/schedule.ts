/**
 * Time rules for scheduled sends, pure: wall-clock times in a timezone, cron occurrences, quiet hours.
 */
import { Cron } from 'croner';
import { InputError } from '../errors.js';
import { checkDate } from './time.js';

const DTF = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = DTF.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    DTF.set(tz, f);
  }
  return f;
}

/** The wall-clock fields of an instant in a timezone. */
export function wallClock(ms: number, tz: string): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const parts = Object.fromEntries(formatter(tz).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return { year: +parts.year!, month: +parts.month!, day: +parts.day!, hour: +parts.hour! % 24, minute: +parts.minute!, second: +parts.second! };
}

/** Milliseconds the timezone is ahead of UTC at an instant. */
function offsetAt(ms: number, tz: string): number {
  const w = wallClock(ms, tz);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000;
}

/** The instant at which the wall clock in `tz` reads `date` (YYYY-MM-DD) `time` (HH:MM). */
export function zonedInstant(date: string, time: string, tz: string): number {
  const [year, month, day] = checkDate(date);
  const t = /^(\d{2}):(\d{2})$/.exec(time);
  if (!t || +t[1]! > 23 || +t[2]! > 59) throw new InputError(`"${time}" is not a time of day (use HH:MM, 24-hour)`);
  const naive = Date.UTC(year, month - 1, day, +t[1]!, +t[2]!);
  // Two passes settle DST transitions: the offset at the first guess may differ from the answer's.
  let guess = naive - offsetAt(naive, tz);
  guess = naive - offsetAt(guess, tz);
  return guess;
}

/** YYYY-MM-DD of an instant in a timezone. */
export function localDate(ms: number, tz: string): string {
  const w = wallClock(ms, tz);
  return `${w.year}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
}

function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y!, m! - 1, d! + days)).toISOString().slice(0, 10);
}

/**
 * When `time` next comes in `tz`: on `date` if given (or now, if that has passed), else today's
 * `time` if still ahead, else tomorrow's.
 */
export function nextLocalTime(time: string, tz: string, now: number, date?: string): number {
  if (date) return Math.max(now, zonedInstant(date, time, tz));
  const today = zonedInstant(localDate(now, tz), time, tz);
  return today >= now ? today : zonedInstant(addDays(localDate(now, tz), 1), time, tz);
}

/**
 * Reads `--at`: an ISO date-time; without an offset it is wall-clock time in `tz`.
 * `2026-12-01T09:00`, `2026-12-01 09:00`, `2026-12-01T09:00:00Z`, `2026-12-01T09:00+09:00`.
 */
export function parseAt(text: string, tz: string): number {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(text.trim());
  if (!m) throw new InputError(`"${text}" is not a date and time (use 2026-12-01T09:00, optionally with Z or +09:00)`);
  checkDate(m[1]!);
  if (m[3] !== undefined && +m[3] > 59) throw new InputError(`"${text}" has ${m[3]} seconds: use 00-59`);
  if (m[4]) {
    const [hh, mm] = m[2]!.split(':').map(Number);
    if (hh! > 23 || mm! > 59) throw new InputError(`"${m[2]}" is not a time of day (use HH:MM, 24-hour)`);
    const ms = Date.parse(`${m[1]}T${m[2]}:${m[3] ?? '00'}${m[4].length === 5 ? m[4].slice(0, 3) + ':' + m[4].slice(3) : m[4]}`);
    if (Number.isNaN(ms)) throw new InputError(`"${text}" is not a valid date and time`);
    return ms;
  }
  return zonedInstant(m[1]!, m[2]!, tz) + Number(m[3] ?? 0) * 1000;
}

/** Throws InputError when the cron expression or timezone is not valid. Five fields, or six with seconds. */
export function checkCron(cron: string, tz: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new InputError(`"${tz}" is not an IANA timezone (for example Asia/Seoul)`, { field: 'timezone' });
  }
  try {
    const job = new Cron(cron, { timezone: tz, paused: true });
    if (!job.nextRun(new Date(0))) throw new Error('it never fires');
  } catch (err) {
    throw new InputError(`"${cron}" is not a cron expression (${(err as Error).message.replace(/^CronPattern: /, '')}); e.g. "0 8 * * *" or, with seconds, "*/30 * * * * *"`, { field: 'cron' });
  }
}

/** The first occurrence strictly after `after`, or undefined when there is none. */
export function nextOccurrence(cron: string, tz: string, after: number): number | undefined {
  const next = new Cron(cron, { timezone: tz, paused: true }).nextRun(new Date(after));
  return next ? next.getTime() : undefined;
}

/** Quiet hours as minutes after midnight; `end` may be before `start` (the window wraps midnight). */
export interface QuietHours {
  start: number;
  end: number;
}

/** Reads "22:00-08:00"; "off" or "" means none. */
export function parseQuietHours(text: string | undefined | null): QuietHours | undefined {
  if (!text || text === 'off') return undefined;
  const m = /^(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})$/.exec(text.trim());
  if (!m || +m[1]! > 23 || +m[3]! > 23 || +m[2]! > 59 || +m[4]! > 59) throw new InputError(`"${text}" is not a quiet-hours window (use HH:MM-HH:MM, e.g. 22:00-08:00, or off)`);
  return { start: +m[1]! * 60 + +m[2]!, end: +m[3]! * 60 + +m[4]! };
}

/** `ms` itself when outside the window in `tz`, else the instant the window ends. */
export function deferForQuietHours(ms: number, tz: string, quiet: QuietHours | undefined): number {
  if (!quiet || quiet.start === quiet.end) return ms;
  const w = wallClock(ms, tz);
  const minute = w.hour * 60 + w.minute;
  const inside = quiet.start < quiet.end ? minute >= quiet.start && minute < quiet.end : minute >= quiet.start || minute < quiet.end;
  if (!inside) return ms;
  const endTime = `${String(Math.floor(quiet.end / 60)).padStart(2, '0')}:${String(quiet.end % 60).padStart(2, '0')}`;
  const today = localDate(ms, tz);
  const end = zonedInstant(today, endTime, tz);
  return end > ms ? end : zonedInstant(addDays(today, 1), endTime, tz);
}
