/** `notify log`: deliveries and their transitions, newest first. */
import type { Command } from 'commander';
import type { Ctx } from '../cli.js';
import type { Deps } from '../deps.js';
import { DELIVERY_STATUSES, PRIORITIES } from '../core/types.js';
import { parseDuration } from '../core/time.js';
import { UsageError } from '../errors.js';
import { printRows } from '../io.js';
import type { DeliveryEvent, DeliveryRow } from '../store/outbox.js';
import { positiveInt } from './shared.js';
import { describe } from './catalog.js';

export interface LogOptions {
  user?: string;
  /** A notification or campaign id. */
  campaign?: string;
  status?: string;
  /** A duration such as 15m, 1h, 7d. */
  since?: string;
  /** Default 50. */
  limit?: number;
  json?: boolean;
}

export type LogEntry = DeliveryRow & { events: DeliveryEvent[] };

export function register(program: Command, ctx: Ctx): void {
  program.command('log')
    .description(describe('log'))
    .option('--user <id>', 'only this user')
    .option('--campaign <id>', 'only this notification or campaign')
    .option('--status <status>', `only this status: ${DELIVERY_STATUSES.join(', ')}`)
    .option('--since <duration>', 'only changed within this long, e.g. 15m, 1h, 7d')
    .option('--limit <n>', 'at most this many (default 50)', positiveInt)
    .option('--json', 'print as JSON, each delivery with its events')
    .addHelpText('after', '\nExamples:\n  $ notify log --status dead --since 1h\n  $ notify log --user u1 --json\n  $ notify log --campaign n_AbC123')
    .action(ctx.action(async (deps, opts: LogOptions) => {
      const entries = await run(opts, deps);
      await printRows(deps.io, entries, [
        { header: 'ID', value: (e) => e.id },
        { header: 'NOTIFICATION', value: (e) => e.notificationId },
        { header: 'USER', value: (e) => e.userId },
        { header: 'CHANNEL', value: (e) => e.channel },
        { header: 'PROVIDER', value: (e) => e.provider },
        { header: 'STATUS', value: (e) => (e.skipReason ? `${e.status} (${e.skipReason})` : e.status) },
        { header: 'PRIORITY', value: (e) => PRIORITIES[e.priority] },
        { header: 'ATTEMPTS', value: (e) => e.attempts },
        { header: 'UPDATED', value: (e) => new Date(e.updatedAt).toISOString() },
        { header: 'LAST ERROR', value: (e) => e.lastError ?? '' },
      ], { json: opts.json, empty: 'No deliveries.', toJson: (e) => ({
        ...e, createdAt: new Date(e.createdAt).toISOString(), updatedAt: new Date(e.updatedAt).toISOString(),
        nextAt: new Date(e.nextAt).toISOString(), sentAt: e.sentAt ? new Date(e.sentAt).toISOString() : null,
        priority: PRIORITIES[e.priority], events: e.events.map((ev) => ({ ...ev, at: new Date(ev.at).toISOString() })),
      }) });
    }));
}

export async function run(options: LogOptions, deps: Deps): Promise<LogEntry[]> {
  if (options.status && !(DELIVERY_STATUSES as readonly string[]).includes(options.status)) {
    throw new UsageError(`--status must be one of ${DELIVERY_STATUSES.join(', ')}`);
  }
  let since: number | undefined;
  if (options.since) {
    const ms = parseDuration(options.since);
    if (ms === undefined) throw new UsageError(`--since "${options.since}" is not a duration: use e.g. 30s, 15m, 1h, 7d`);
    since = deps.clock.now() - ms;
  }
  const store = await deps.store();
  if (options.campaign) await store.notifications.require(options.campaign);
  const rows = await store.outbox.list({ userId: options.user, notificationId: options.campaign, status: options.status, since, limit: options.limit ?? 50 });
  const events = await store.outbox.events(rows.map((r) => r.id));
  const byId = new Map<number, DeliveryEvent[]>();
  for (const e of events) byId.set(e.deliveryId, [...(byId.get(e.deliveryId) ?? []), e]);
  return rows.map((r) => ({ ...r, events: byId.get(r.id) ?? [] }));
}
