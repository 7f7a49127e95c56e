/**
 * Submitting a notification — shared by `notify send`, the HTTP API and the scheduler: resolve the
 * template version and the audience, record the notification (idempotent by event id), and fan it
 * out into deliveries with opt-outs, suppressions and frequency caps applied in SQL.
 */
import type { Config } from './config.js';
import { CHANNELS, PRIORITY_RANK, type Channel, type Priority } from './core/types.js';
import type { Clock } from './core/time.js';
import { InputError, NotFoundError } from './errors.js';
import type { Store } from './store/index.js';
import type { TemplateCache } from './core/render.js';
import type { TemplateDef } from './core/template.js';
import { FANOUT_BATCH, type FanoutPlan, type NotificationRow } from './store/notifications.js';

export interface SubmitRequest {
  template: string;
  /** A segment name (`all` built in), or… */
  segment?: string;
  /** …explicit user ids. */
  users?: string[];
  /** Default: every channel the template has. */
  channels?: Channel[];
  data?: Record<string, unknown>;
  /** Default from the category: transactional high, marketing low. */
  priority?: Priority;
  /** Idempotency key: a second submit with it is a no-op that returns the first. */
  eventId?: string;
  source: string;
  appId?: string;
  /** Epoch ms; in the future makes a scheduled notification the daemon starts then. */
  sendAt?: number;
  /** HH:MM: deliver at this time in each recipient's timezone (users without one: defaults.timezone). */
  localTime?: string;
  /** YYYY-MM-DD for `localTime`; default: the next such time for each recipient. */
  date?: string;
}

export interface SubmitResult {
  notification: NotificationRow;
  deduplicated: boolean;
}

export interface DryRunResult {
  template: string;
  templateVersion: number;
  audience: number;
  channels: Record<string, Record<string, number>>;
}

interface Resolved {
  templateVersion: number;
  category: string;
  channels: Channel[];
  priority: number;
  plan: FanoutPlan;
}

async function resolve(req: SubmitRequest, store: Store, config: Config): Promise<Resolved> {
  if (!req.segment === !req.users) throw new InputError('give either a segment or a list of users');
  const template = await store.templates.require(req.template);
  const has = CHANNELS.filter((c) => template.def[c] !== undefined || Object.values(template.def.locales ?? {}).some((v) => v[c] !== undefined));
  let channels: Channel[];
  if (req.channels?.length) {
    for (const c of req.channels) {
      if (!(CHANNELS as readonly string[]).includes(c)) throw new InputError(`unknown channel "${c}" (use push, sms or email)`, { field: 'channels' });
      if (!has.includes(c)) throw new InputError(`template "${req.template}" has no ${c} part: add one or choose from ${has.join(', ')}`, { field: 'channels' });
    }
    channels = [...new Set(req.channels)];
  } else {
    channels = has;
  }
  const category = template.category;
  const transactional = config.categories[category]?.transactional ?? true;
  const priority = PRIORITY_RANK[req.priority ?? (transactional ? 'high' : 'low')];
  if (priority === undefined) throw new InputError(`unknown priority "${req.priority}" (use high, normal or low)`, { field: 'priority' });
  const plan = await planFor({ category, channels, segment: req.segment }, store, config, Boolean(req.channels?.length));
  if (!req.segment) {
    const users = [...new Set(req.users)];
    if (users.length === 0) throw new InputError('the list of users is empty');
    const missing = await store.users.missing(users);
    if (missing.length) throw new NotFoundError(`no user "${missing[0]}"${missing.length > 1 ? ` (and ${missing.length - 1} more unknown)` : ''}: check the ids with "notify users list"`);
  }
  await checkData(req.template, template.version, template.def, channels, req.data ?? {});
  return { templateVersion: template.version, category, channels, priority, plan };
}

let templates: TemplateCache | undefined;

/**
 * Refuses a send whose data lacks what the template reads (`{{ data.product }}`), before anything is
 * written: otherwise every delivery would be dead at render time. Each part the send can use is
 * rendered once with the data and a stand-in user, in every locale variant; a missing `user.*` value
 * is a matter for each recipient, not for the send.
 */
async function checkData(name: string, version: number, def: TemplateDef, channels: Channel[], data: Record<string, unknown>): Promise<void> {
  const { TemplateCache, TemplateRenderError, renderContext } = await import('./core/render.js');
  templates ??= new TemplateCache(100);
  const compiled = templates.get(name, version, () => def);
  const standIn = { id: 'check', name: '', email: '', phone: '', locale: null, timezone: null, attributes: {}, createdAt: '', updatedAt: '' };
  const ctx = renderContext(standIn, data);
  for (const locale of [null, ...Object.keys(def.locales ?? {})]) {
    for (const channel of channels) {
      if (!compiled.has(channel, locale)) continue;
      try {
        compiled.render(channel, ctx, locale);
      } catch (err) {
        if (!(err instanceof TemplateRenderError) || !err.variable?.startsWith('data.')) continue;
        const key = err.variable.slice('data.'.length).split('.')[0];
        throw new InputError(`template "${name}" reads ${err.variable} (${err.where?.field}) but the send has no "${key}": pass it in the data (--data ${key}=...)`, { field: 'data' });
      }
    }
  }
}

/** The fan-out plan of a notification: opt-in filters per channel, the cap, the segment's filter. */
async function planFor(n: { category: string; channels: Channel[]; segment?: string }, store: Store, config: Config, explicitChannels: boolean): Promise<FanoutPlan> {
  const transactional = config.categories[n.category]?.transactional ?? true;
  const defaultOptIn = transactional ? true : config.defaults.marketingOptIn;
  const optIn: FanoutPlan['optIn'] = {};
  for (const c of n.channels) optIn[c] = store.prefs.optedInSql(c, n.category, defaultOptIn);
  const plan: FanoutPlan = { optIn, capPerDay: config.limits[n.category]?.perDay, countNoAddress: explicitChannels };
  if (n.segment) plan.segment = await store.segments.filter(n.segment);
  return plan;
}

/**
 * Per-recipient due times: local-time sends (at HH:MM in each timezone) and quiet hours (marketing
 * due inside the recipient's window waits for its end). Computed once per distinct (timezone,
 * quiet-hours override) of the audience, so fan-out stays set-based.
 */
async function applyTiming(n: Pick<NotificationRow, 'id' | 'audience' | 'category' | 'sendAt' | 'timing'>, plan: FanoutPlan, store: Store, config: Config, now: number): Promise<number> {
  const nextAt = Math.max(now, n.sendAt ?? now);
  const marketing = !(config.categories[n.category]?.transactional ?? true);
  if (!n.timing?.localTime && !marketing) return nextAt;
  const { nextLocalTime, parseQuietHours, deferForQuietHours } = await import('./core/schedule.js');
  const fallback = config.quietHours ? parseQuietHours(config.quietHours) : undefined;
  const dueByZone: Record<string, number> = {};
  const defaultTimezone = config.defaults.timezone;
  for (const { timezone, quiet } of await store.notifications.audienceZones(n, plan, defaultTimezone)) {
    let tz = timezone;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
    } catch {
      tz = defaultTimezone;
    }
    let due = n.timing?.localTime ? nextLocalTime(n.timing.localTime, tz, nextAt, n.timing.date) : nextAt;
    if (marketing) {
      let window = fallback;
      try {
        if (quiet) window = parseQuietHours(quiet);
      } catch {
        // A malformed personal window falls back to the configured one.
      }
      due = deferForQuietHours(due, tz, window);
    }
    if (due !== nextAt) dueByZone[`${timezone}|${quiet}`] = due;
  }
  if (Object.keys(dueByZone).length) plan.timing = { dueByZone, defaultTimezone };
  return nextAt;
}

/**
 * Fans out a recorded notification: a scheduled one whose time came, or one whose fan-out stopped
 * (its process died, or it was paused and resumed). The daemon's scheduler calls this.
 */
export async function startNotification(n: NotificationRow, store: Store, config: Config, clock: Clock): Promise<NotificationRow> {
  const plan = await planFor({ category: n.category, channels: n.channels, segment: 'segment' in n.audience ? n.audience.segment : undefined }, store, config, false);
  const nextAt = await applyTiming(n, plan, store, config, clock.now());
  return store.notifications.fanOut(n.id, plan, { nextAt, notification: n });
}

/** Counts what a send would write, per channel and skip reason. Writes nothing. */
export async function dryRun(req: SubmitRequest, store: Store, config: Config): Promise<DryRunResult> {
  const r = await resolve(req, store, config);
  const probe: NotificationRow = {
    id: '(dry-run)', eventId: null, template: req.template, templateVersion: r.templateVersion, category: r.category,
    priority: r.priority, data: req.data ?? {}, audience: req.segment ? { segment: req.segment } : { users: req.users!.length },
    channels: r.channels, isCampaign: Boolean(req.segment), status: 'fanning', source: req.source, appId: null, sendAt: null, timing: null,
    counts: {}, createdAt: 0, updatedAt: 0,
  };
  const counts = await store.notifications.dryRun(probe, { ...r.plan, users: req.users });
  return { template: req.template, templateVersion: r.templateVersion, ...counts };
}

/**
 * Records and fans out. With `sendAt` in the future the notification is stored as scheduled and the
 * daemon fans it out at that time.
 */
export async function submit(req: SubmitRequest, store: Store, config: Config, clock: Clock, onProgress?: (users: number) => void): Promise<SubmitResult> {
  if (req.eventId) {
    const first = await store.notifications.byEventId(req.eventId);
    if (first) return { notification: first, deduplicated: true };
  }
  if (req.localTime !== undefined && req.sendAt !== undefined) throw new InputError('give a send time (--at) or a local time (--local-time), not both');
  if (req.localTime !== undefined) {
    const { zonedInstant } = await import('./core/schedule.js');
    zonedInstant(req.date ?? '2000-01-01', req.localTime, 'UTC');
  } else if (req.date !== undefined) {
    throw new InputError('a date (--date) goes with a local time (--local-time HH:MM)');
  }
  const r = await resolve(req, store, config);
  const scheduled = req.sendAt !== undefined && req.sendAt > clock.now();
  const input = {
    eventId: req.eventId, template: req.template, templateVersion: r.templateVersion, category: r.category, priority: r.priority,
    data: req.data ?? {}, channels: r.channels, source: req.source, appId: req.appId, sendAt: req.sendAt,
    timing: req.localTime ? { localTime: req.localTime, date: req.date } : undefined,
  };
  if (!scheduled && req.users && req.users.length <= FANOUT_BATCH) {
    // A few users, now: one transaction records the notification and writes its deliveries.
    const users = [...new Set(req.users)];
    const plan = { ...r.plan, users };
    const due = { id: '(new)', audience: { users: users.length }, category: input.category, sendAt: input.sendAt ?? null, timing: input.timing ?? null };
    const nextAt = await applyTiming(due, plan, store, config, clock.now());
    const sent = await store.notifications.createAndFanOut({ ...input, audience: { users } }, plan, nextAt);
    if (!sent.deduplicated) onProgress?.(users.length);
    return sent;
  }
  const owner = `submit:${process.pid}`;
  const { notification, deduplicated } = await store.notifications.create({
    ...input, audience: req.segment ? { segment: req.segment } : { users: req.users! },
    status: scheduled ? 'scheduled' : 'fanning', owner: scheduled ? undefined : owner,
  });
  if (deduplicated || scheduled) return { notification, deduplicated };
  const nextAt = await applyTiming(notification, r.plan, store, config, clock.now());
  const done = await store.notifications.fanOut(notification.id, r.plan, { nextAt, onBatch: onProgress, notification });
  return { notification: done, deduplicated: false };
}
