/** `notify stats`: what notifications achieved — delivery, opens, clicks, unsubscribes, latency. */
import type { Command } from 'commander';
import type { Ctx } from '../cli.js';
import type { Deps } from '../deps.js';
import { CHANNELS, PROVIDERS } from '../core/types.js';
import { checkDate, parseDuration } from '../core/time.js';
import { UsageError } from '../errors.js';
import type { Stats, StatsFilter } from '../store/stats.js';
import { describe } from './catalog.js';

export interface StatsOptions {
  campaign?: string;
  template?: string;
  channel?: string;
  category?: string;
  /** A duration back from now (7d) or an ISO date. */
  since?: string;
  until?: string;
  by?: string;
  json?: boolean;
}

export type StatsResult = Stats & { filter: Record<string, string | undefined>; logProviders: string[] };

export function register(program: Command, ctx: Ctx): void {
  program.command('stats')
    .description(describe('stats'))
    .option('--campaign <id>', 'one notification or campaign')
    .option('--template <name>', 'notifications of this template')
    .option('--channel <channel>', 'push, sms or email')
    .option('--category <name>', 'one category')
    .option('--since <when>', 'deliveries created since: a duration (7d, 12h) or a date (2026-11-01)')
    .option('--until <when>', 'deliveries created before: a duration ago or a date')
    .option('--by <unit>', 'add a time series: hour or day')
    .option('--json', 'print as JSON')
    .addHelpText('after', `
Rates: delivery = delivered / (sent + dead); open = unique human opens / delivered (a click counts as
an open; machine opens — mail scanners, privacy proxies, fetches within seconds of delivery — are
counted apart); click = unique clicks / delivered. "delivered" is sent less provider receipts that say
undelivered. Latency is created -> handed to the provider, as the upper edge of its bucket.

Examples:
  $ notify stats --since 7d
  $ notify stats --campaign n_AbC123 --json
  $ notify stats --template promo --channel email --by day`)
    .action(ctx.action(async (deps, opts: StatsOptions) => {
      const r = await run(opts, deps);
      if (opts.json) return void deps.io.stdout.write(JSON.stringify(r, null, 2) + '\n');
      print(deps, r);
    }));
}

function parseWhen(text: string, now: number, flag: string): number {
  const d = parseDuration(text);
  if (d !== undefined) return now - d;
  const bad = new UsageError(`${flag} "${text}" is neither a duration (7d, 12h) nor a date (2026-11-01)`);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw bad;
  // Date.parse reads 2026-02-30 as March 2: a date must be one of the calendar.
  const day = /^\d{4}-\d{2}-\d{2}/.exec(text)?.[0];
  try {
    if (day !== undefined) checkDate(day);
  } catch {
    throw bad;
  }
  return ms;
}

export async function run(options: StatsOptions, deps: Deps): Promise<StatsResult> {
  if (options.channel && !(CHANNELS as readonly string[]).includes(options.channel)) throw new UsageError(`--channel must be push, sms or email`);
  if (options.by && options.by !== 'hour' && options.by !== 'day') throw new UsageError('--by must be hour or day');
  const now = deps.clock.now();
  const filter: StatsFilter = {
    notificationId: options.campaign, template: options.template, channel: options.channel, category: options.category,
    since: options.since ? parseWhen(options.since, now, '--since') : undefined,
    until: options.until ? parseWhen(options.until, now, '--until') : undefined,
  };
  if (filter.since !== undefined && filter.until !== undefined && filter.until <= filter.since) {
    throw new UsageError(`--until (${options.until}) must be after --since (${options.since})`);
  }
  const [store, config] = await Promise.all([deps.store(), deps.config()]);
  if (options.campaign) await store.notifications.require(options.campaign);
  if (options.template) await store.templates.require(options.template);
  const stats = await store.stats.compute(filter, options.by as 'hour' | 'day' | undefined);
  return {
    filter: { campaign: options.campaign, template: options.template, channel: options.channel, category: options.category,
      since: filter.since !== undefined ? new Date(filter.since).toISOString() : undefined, until: filter.until !== undefined ? new Date(filter.until).toISOString() : undefined },
    ...stats,
    logProviders: PROVIDERS.filter((p) => config.channels[p].provider === 'log'),
  };
}

const n = (x: number) => x.toLocaleString('en-US');
const pct = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);
const ms = (x: number | null) => (x === null ? '-' : x < 1000 ? `<= ${x} ms` : `<= ${x / 1000} s`);

/** ▁▂▃▄▅▆▇█ scaled to the largest value. */
export function sparkline(values: number[]): string {
  const bars = '▁▂▃▄▅▆▇█';
  const max = Math.max(...values, 0);
  return values.map((v) => (max === 0 ? bars[0] : bars[Math.min(7, Math.round((v / max) * 7))])).join('');
}

function print(deps: Deps, r: StatsResult): void {
  const { io } = deps;
  const rows: [string, string][] = [
    ['deliveries', `${n(r.deliveries)}  (queued ${n(r.queued + r.scheduled)}, sending ${n(r.sending)}, retrying ${n(r.failed)}, paused ${n(r.paused)}, canceled ${n(r.canceled)})`],
    ['sent', `${n(r.sent)}  delivered ${n(r.delivered)} (${pct(r.rates.delivery)})  dead ${n(r.dead)}`],
    ['skipped', Object.entries(r.skipped).map(([k, v]) => `${k} ${n(v)}`).join(', ') || '0'],
    ['receipts', `delivered ${n(r.receipts.delivered)}, undelivered ${n(r.receipts.undelivered)}`],
    ['opened', `${n(r.opened.unique)} unique (${pct(r.rates.open)})  ${n(r.opened.total)} total  ${n(r.opened.machine)} machine`],
    ['clicked', `${n(r.clicked.unique)} unique (${pct(r.rates.click)})  ${n(r.clicked.total)} total`],
    ['unsubscribed', `${n(r.unsubscribed)} (${pct(r.rates.unsubscribe)})`],
    ['latency', `p50 ${ms(r.latencyMs.p50)}  p90 ${ms(r.latencyMs.p90)}  p99 ${ms(r.latencyMs.p99)}`],
  ];
  for (const [k, v] of rows) io.stdout.write(io.isTTY ? `${k.padEnd(13)}${v}\n` : `${k}\t${v}\n`);
  if (r.series?.length) {
    if (io.isTTY) {
      io.stdout.write(`\nsends  ${sparkline(r.series.map((s) => s.sent))}\nopens  ${sparkline(r.series.map((s) => s.opened))}\nclicks ${sparkline(r.series.map((s) => s.clicked))}\n`);
      io.stdout.write(`       ${r.series[0]!.at} .. ${r.series.at(-1)!.at}\n`);
    } else {
      for (const s of r.series) io.stdout.write(`${s.at}\t${s.sent}\t${s.opened}\t${s.clicked}\n`);
    }
  }
  if (r.logProviders.length && io.errIsTTY) io.stderr.write(`note: ${r.logProviders.join(', ')} use the log provider: deliveries are written to files, not sent\n`);
}
