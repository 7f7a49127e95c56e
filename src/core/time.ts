import { InputError } from '../errors.js';

/** The injected clock. Everything that compares times asks it, so tests can move time by hand. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private t: number = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `500ms`, `30s`, `15m`, `1h`, `7d`, `2w` into milliseconds; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNITS[m[2]!]!);
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Throws InputError unless YYYY-MM-DD names a day of the calendar: JavaScript's Date would read
 * 2026-02-30 as March 2 and 2026-13-45 as February 2027, and a send meant for later would go at once.
 */
export function checkDate(date: string): [number, number, number] {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!d) throw new InputError(`"${date}" is not a date (use YYYY-MM-DD)`);
  const [y, m, day] = [+d[1]!, +d[2]!, +d[3]!];
  if (m < 1 || m > 12) throw new InputError(`"${date}" is not a date: there is no month ${d[2]} (use YYYY-MM-DD)`);
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (day < 1 || day > days) throw new InputError(`"${date}" is not a date: ${y}-${d[2]} has ${days} days`);
  return [y, m, day];
}
