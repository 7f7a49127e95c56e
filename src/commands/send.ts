/** `notify send`: a template to a segment or to users, now (or at a time, with the scheduling flags). */
import type { Command } from 'commander';
import type { Ctx } from '../cli.js';
import type { Deps } from '../deps.js';
import { CHANNELS, PRIORITIES, type Channel, type Priority } from '../core/types.js';
import { InputError, UsageError } from '../errors.js';
import { notice, Progress } from '../io.js';
import type { DryRunResult, SubmitResult } from '../submit.js';
import { collect, readInput, readTemplateData } from './shared.js';
import { describe } from './catalog.js';

export interface SendOptions {
  template: string;
  segment?: string;
  user?: string[];
  /** A file of user ids, one per line ("-" for stdin). */
  users?: string;
  /** Comma-separated channels. */
  channel?: string;
  data?: string[];
  dataFile?: string;
  priority?: string;
  eventId?: string;
  dryRun?: boolean;
  wait?: boolean;
  /** Start at this time: ISO date-time; without an offset, wall-clock time in --tz. */
  at?: string;
  /** Timezone for --at. Default defaults.timezone. */
  tz?: string;
  /** HH:MM in each recipient's own timezone. */
  localTime?: string;
  /** YYYY-MM-DD for --local-time. */
  date?: string;
  json?: boolean;
}

export type SendResult = ({ dryRun: false } & SubmitResult) | ({ dryRun: true } & DryRunResult);

const EXAMPLES = `
Examples:
  $ notify send --template promo --segment all
  $ notify send --template welcome --user u1 --data coupon=WELCOME10 --wait
  $ notify send --template digest --users ids.txt --channel email
  $ notify send --template promo --segment kr --dry-run
  $ notify send --template digest --segment readers --event-id digest-$(date +%F)   # safe to run twice
  $ notify send --template promo --segment all --at 2026-12-01T09:00 --tz Asia/Seoul
  $ notify send --template digest --segment all --local-time 08:00 --date 2026-12-01`;

export function register(program: Command, ctx: Ctx): void {
  program.command('send')
    .description(describe('send'))
    .requiredOption('-t, --template <name>', 'template to send')
    .option('-s, --segment <name>', 'segment to send to (`all` is every user)')
    .option('-u, --user <id>', 'user to send to (repeatable)', collect, [])
    .option('--users <file>', 'file of user ids, one per line ("-" for stdin)')
    .option('-c, --channel <list>', 'channels, comma-separated: push,sms,email (default: every channel the template has)')
    .option('-d, --data <key=value>', 'template data (repeatable); values are JSON when they parse', collect, [])
    .option('--data-file <file>', 'template data from a JSON file')
    .option('-p, --priority <level>', 'high, normal or low (default: high for transactional categories, low for marketing)')
    .option('--event-id <id>', 'idempotency key: sending again with the same id does nothing and reports the first send')
    .option('--dry-run', 'count deliveries per channel and skip reason; write nothing')
    .option('--wait', 'wait until every delivery is final, with a progress bar')
    .option('--at <time>', 'start at this time (2026-12-01T09:00; without an offset it is in --tz); the daemon starts it')
    .option('--tz <zone>', 'timezone for --at (default: defaults.timezone)')
    .option('--local-time <HH:MM>', "deliver at this time in each recipient's own timezone")
    .option('--date <YYYY-MM-DD>', 'the day for --local-time (default: the next such time for each recipient)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', EXAMPLES)
    .action(ctx.action(async (deps, opts: SendOptions) => {
      const result = await run(opts, deps);
      print(deps, result, opts);
    }));
}

function parseChannels(list: string | undefined): Channel[] | undefined {
  if (!list) return undefined;
  const channels = list.split(',').map((c) => c.trim()).filter(Boolean);
  for (const c of channels) if (!(CHANNELS as readonly string[]).includes(c)) throw new UsageError(`--channel "${c}" is not a channel: use push, sms or email`);
  return channels as Channel[];
}

async function readIds(file: string, deps: Deps): Promise<string[]> {
  const text = await readInput(file, deps);
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

export async function run(options: SendOptions, deps: Deps): Promise<SendResult> {
  const targets = [options.segment !== undefined, (options.user?.length ?? 0) > 0, options.users !== undefined].filter(Boolean).length;
  if (targets !== 1) throw new UsageError('give exactly one of --segment, --user or --users');
  if (options.priority !== undefined && !(PRIORITIES as readonly string[]).includes(options.priority)) {
    throw new UsageError(`--priority must be high, normal or low, not "${options.priority}"`);
  }
  const channels = parseChannels(options.channel);
  const data = await readTemplateData(options, deps);
  const users = options.users !== undefined ? await readIds(options.users, deps) : options.user?.length ? options.user : undefined;
  const [config, store, submitModule] = await Promise.all([deps.config(), deps.store(), import('../submit.js')]);
  let sendAt: number | undefined;
  if (options.at !== undefined) {
    const { parseAt } = await import('../core/schedule.js');
    const tz = options.tz ?? config.defaults.timezone;
    (await import('../core/validate.js')).checkTimezone(tz, '--tz');
    sendAt = parseAt(options.at, tz);
  } else if (options.tz !== undefined) {
    throw new UsageError('--tz goes with --at');
  }
  if (options.date !== undefined && options.localTime === undefined) throw new UsageError('--date goes with --local-time');
  if (options.localTime !== undefined && options.at !== undefined) throw new UsageError('give --at or --local-time, not both');
  const request = {
    template: options.template, segment: options.segment, users, channels, data,
    priority: options.priority as Priority | undefined, eventId: options.eventId, source: 'cli',
    sendAt, localTime: options.localTime, date: options.date,
  };
  if (options.dryRun) return { dryRun: true, ...(await submitModule.dryRun(request, store, config)) };
  const progress = new Progress(deps.io, 'Fanning out');
  const result = await submitModule.submit(request, store, config, deps.clock, (n) => progress.update(n));
  progress.done();
  const { wakeDaemon } = await import('../daemon/client.js');
  if (!(await wakeDaemon(deps.home)) && !result.deduplicated) {
    notice(deps.io, 'No daemon is running for this home: deliveries wait in the outbox until "notify daemon start".');
  }
  if (options.wait) {
    const bar = new Progress(deps.io, 'Waiting for deliveries; pending:');
    for (;;) {
      const pending = await store.notifications.pending(result.notification.id);
      bar.update(pending);
      if (pending === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    bar.done();
    const refreshed = await store.notifications.get(result.notification.id);
    Object.assign(result.notification.counts, store.notifications.deliveryCounts(result.notification.id));
    if (refreshed) result.notification.status = refreshed.status;
  }
  return { dryRun: false, ...result };
}

function print(deps: Deps, result: SendResult, opts: SendOptions): void {
  const { io } = deps;
  if (result.dryRun) {
    if (opts.json) return void io.stdout.write(JSON.stringify(result, null, 2) + '\n');
    io.stdout.write(`Dry run: ${result.template} v${result.templateVersion} to ${result.audience} users; nothing written\n`);
    for (const [channel, counts] of Object.entries(result.channels)) {
      io.stdout.write(`  ${channel}: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ') || 'nothing'}\n`);
    }
    return;
  }
  const n = result.notification;
  const json = { id: n.id, eventId: n.eventId, deduplicated: result.deduplicated, status: n.status, template: n.template,
    templateVersion: n.templateVersion, campaign: n.isCampaign, sendAt: n.sendAt ? new Date(n.sendAt).toISOString() : null,
    timing: n.timing, counts: n.counts };
  if (opts.json) return void io.stdout.write(JSON.stringify(json, null, 2) + '\n');
  if (result.deduplicated) {
    io.stdout.write(`Already sent: event id "${n.eventId}" is notification ${n.id} (${n.status}); nothing new queued\n`);
    return;
  }
  if (n.status === 'scheduled') {
    io.stdout.write(`Scheduled ${n.isCampaign ? 'campaign' : 'notification'} ${n.id}: ${n.template} v${n.templateVersion} at ${new Date(n.sendAt!).toISOString()}; the daemon starts it then\n`);
    return;
  }
  io.stdout.write(`${n.isCampaign ? 'Campaign' : 'Notification'} ${n.id}: ${n.template} v${n.templateVersion} to ${n.counts.audience ?? 0} users (${n.status})\n`);
  for (const [channel, counts] of Object.entries(n.counts.deliveries ?? {})) {
    io.stdout.write(`  ${channel}: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
  }
  const skipped = Object.entries(n.counts.skipped ?? {});
  if (skipped.length) io.stdout.write(`  skipped: ${skipped.map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
  const noAddress = Object.entries(n.counts.noAddress ?? {});
  if (noAddress.length) io.stdout.write(`  no address: ${noAddress.map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
}
