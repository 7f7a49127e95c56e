/**
 * The scheduler: starts scheduled campaigns when their time comes, resumes fan-outs whose process
 * died, and runs recurring schedules — each occurrence once, whatever the number of daemons.
 * `tick()` does one pass with the injected clock, so tests drive it without sleeping.
 */
import type { Config } from '../config.js';
import type { Clock } from '../core/time.js';
import type { Store } from '../store/index.js';
import type { Schedule } from '../store/schedules.js';
import type { Logger } from './logger.js';

export interface SchedulerOptions {
  store: Store;
  config: Config;
  clock: Clock;
  logger: Logger;
  owner: string;
  /** Called after new deliveries were written, so the claim loop runs at once. */
  onWork?: () => void;
}

export interface TickResult {
  /** Notifications fanned out. */
  started: string[];
  /** Schedule occurrences run: `<name>@<ISO time>`. */
  ran: string[];
  /** Occurrences skipped by the catch-up policy. */
  skipped: string[];
}

export class Scheduler {
  private running: Promise<TickResult> | undefined;

  constructor(private options: SchedulerOptions) {}

  /** Resolves when no pass is running (shutdown). */
  async settle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /** One pass; concurrent calls share it. */
  tick(): Promise<TickResult> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<TickResult> {
    const result: TickResult = { started: [], ran: [], skipped: [] };
    await this.runSchedules(result);
    await this.startDue(result);
    if (result.started.length) this.options.onWork?.();
    return result;
  }

  private async startDue(result: TickResult): Promise<void> {
    const { store, config, clock, logger, owner } = this.options;
    const { startNotification } = await import('../submit.js');
    for (const n of await store.notifications.claimFanouts(owner)) {
      try {
        await startNotification(n, store, config, clock);
        result.started.push(n.id);
        logger.info({ notification: n.id, template: n.template }, 'fan-out done');
      } catch (err) {
        logger.error({ notification: n.id, err: (err as Error).message }, 'fan-out failed; another pass will resume it');
      }
    }
  }

  private async runSchedules(result: TickResult): Promise<void> {
    const { store, clock, logger, config } = this.options;
    const { nextOccurrence } = await import('../core/schedule.js');
    for (const s of await store.schedules.due()) {
      const now = clock.now();
      let occurrence = s.nextRunAt!;
      // Every occurrence up to now: the missed ones follow the catch-up policy.
      const pending: number[] = [];
      for (let t: number | undefined = occurrence; t !== undefined && t <= now && pending.length < 1000; t = nextOccurrence(s.cron, s.timezone, t)) pending.push(t);
      const late = pending.filter((t) => now - t > config.scheduler.graceMs);
      const onTime = pending.filter((t) => now - t <= config.scheduler.graceMs);
      const toRun = [...(s.catchUp === 'once' && late.length ? [late.at(-1)!] : []), ...onTime];
      for (const t of late) {
        if (toRun.includes(t)) continue;
        if (await store.schedules.claimRun(s.name, t, 'skipped', 'missed while no daemon ran (catchUp: skip)')) {
          result.skipped.push(`${s.name}@${new Date(t).toISOString()}`);
          logger.warn({ schedule: s.name, occurrence: new Date(t).toISOString(), catchUp: s.catchUp }, 'missed occurrence skipped');
        }
      }
      for (const t of toRun) {
        if (await this.runOccurrence(s, t, late.includes(t))) result.ran.push(`${s.name}@${new Date(t).toISOString()}`);
      }
      occurrence = pending.at(-1) ?? occurrence;
      await store.schedules.advance(s.name, s.nextRunAt!, nextOccurrence(s.cron, s.timezone, Math.max(occurrence, now)) ?? null, toRun.length ? now : undefined);
    }
  }

  /** Runs one occurrence if nobody has; returns whether this call ran it. */
  async runOccurrence(s: Schedule, occurrence: number, late: boolean): Promise<boolean> {
    const { store, config, clock, logger } = this.options;
    if (!(await store.schedules.claimRun(s.name, occurrence, 'ran', late ? 'ran late (catchUp: once)' : undefined))) return false;
    const { submit } = await import('../submit.js');
    try {
      const r = await submit({
        template: s.template, segment: s.segment, channels: s.channels ?? undefined, data: s.data, priority: s.priority ?? undefined,
        eventId: `schedule:${s.name}:${new Date(occurrence).toISOString()}`, source: 'schedule',
      }, store, config, clock);
      await store.schedules.finishRun(s.name, occurrence, { status: 'ran', notificationId: r.notification.id });
      logger.info({ schedule: s.name, occurrence: new Date(occurrence).toISOString(), notification: r.notification.id, late }, 'schedule ran');
      this.options.onWork?.();
    } catch (err) {
      await store.schedules.finishRun(s.name, occurrence, { status: 'failed', detail: (err as Error).message });
      logger.error({ schedule: s.name, err: (err as Error).message }, 'schedule failed');
    }
    return true;
  }
}
