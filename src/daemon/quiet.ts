/**
 * Quiet hours at dispatch: a marketing delivery reaching the daemon while its recipient is inside the
 * window (a backlog that drained into the night, a retry that came due in it) waits until the window
 * ends, as one written at fan-out would. Transactional categories are never held.
 *
 * The answer for a timezone and window only changes at a minute boundary, so it is kept per minute:
 * a million deliveries in a handful of timezones cost a handful of clock conversions.
 */
import type { Config } from '../config.js';
import type { User } from '../core/types.js';
import { deferForQuietHours, parseQuietHours, type QuietHours } from '../core/schedule.js';

export class QuietHoursGate {
  private readonly fallback: QuietHours | undefined;
  private minute = -1;
  private answers = new Map<string, number | undefined>();
  private windows = new Map<string, QuietHours | undefined>();

  constructor(private config: Config) {
    this.fallback = config.quietHours ? parseQuietHours(config.quietHours) : undefined;
  }

  /** When a delivery of this category to this user may go, if not now. */
  holdUntil(category: string, user: User, now: number): number | undefined {
    if (this.config.categories[category]?.transactional ?? true) return undefined;
    const personal = user.attributes.quiet_hours;
    const window = typeof personal === 'string' ? this.window(personal) : this.fallback;
    if (!window) return undefined;
    let tz = user.timezone ?? this.config.defaults.timezone;
    const minute = Math.floor(now / 60_000);
    if (minute !== this.minute) {
      this.minute = minute;
      this.answers.clear();
    }
    const key = `${tz}|${window.start}-${window.end}`;
    if (this.answers.has(key)) return this.answers.get(key);
    let until: number;
    try {
      until = deferForQuietHours(now, tz, window);
    } catch {
      tz = this.config.defaults.timezone;
      until = deferForQuietHours(now, tz, window);
    }
    // Held until the window's end; the same instant for every delivery asking in this minute.
    const answer = until > now ? until : undefined;
    this.answers.set(key, answer);
    return answer;
  }

  /** A personal `quiet_hours` attribute; a malformed one falls back to the configured window. */
  private window(text: string): QuietHours | undefined {
    if (!this.windows.has(text)) {
      let parsed: QuietHours | undefined;
      try {
        parsed = parseQuietHours(text);
      } catch {
        parsed = this.fallback;
      }
      if (this.windows.size > 1000) this.windows.clear();
      this.windows.set(text, parsed);
    }
    return this.windows.get(text);
  }
}
