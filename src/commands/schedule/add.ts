import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { CHANNELS, PRIORITIES, type Channel, type Priority } from '../../core/types.js';
import { InputError, UsageError } from '../../errors.js';
import { printRecord } from '../../io.js';
import type { Schedule } from '../../store/schedules.js';
import { collect, readTemplateData } from '../shared.js';
import { scheduleJson } from './print.js';

export interface AddOptions {
  name: string;
  cron: string;
  tz?: string;
  template: string;
  segment: string;
  channel?: string;
  data?: string[];
  dataFile?: string;
  priority?: string;
  /** What to do with occurrences missed while no daemon ran: skip (default) or once (run one late). */
  catchUp?: string;
  json?: boolean;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('add <name>')
    .description('add a recurring send: a template to a segment on a cron schedule')
    .requiredOption('--cron <expr>', 'cron expression: 5 fields, or 6 with seconds first ("0 8 * * *")')
    .option('--tz <zone>', 'timezone the cron expression is read in (default: defaults.timezone)')
    .requiredOption('-t, --template <name>', 'template to send')
    .requiredOption('-s, --segment <name>', 'segment to send to')
    .option('-c, --channel <list>', 'channels, comma-separated (default: every channel the template has)')
    .option('-d, --data <key=value>', 'template data (repeatable)', collect, [])
    .option('--data-file <file>', 'template data from a JSON file')
    .option('-p, --priority <level>', 'high, normal or low')
    .option('--catch-up <policy>', 'occurrences missed while no daemon ran: skip (default) or once', 'skip')
    .option('--json', 'print the schedule as JSON')
    .addHelpText('after', `
Each occurrence runs exactly once, however many daemons share the database. The daemon runs schedules.

Examples:
  $ notify schedule add morning-digest --cron "0 8 * * *" --tz Asia/Seoul --template digest --segment daily-readers
  $ notify schedule add weekly --cron "0 9 * * 1" --template weekly --segment all --catch-up once`)
    .action(ctx.action(async (deps, name: string, opts: Omit<AddOptions, 'name'>) => {
      const s = await run({ name, ...opts }, deps);
      printRecord(deps.io, { ...scheduleJson(s), data: JSON.stringify(s.data) }, { json: opts.json, jsonValue: scheduleJson(s) });
    }));
}

export async function run(options: AddOptions, deps: Deps): Promise<Schedule> {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(options.name)) throw new UsageError(`"${options.name}" is not a schedule name: use lower-case letters, digits, "-" and "_"`);
  if (options.catchUp !== undefined && options.catchUp !== 'skip' && options.catchUp !== 'once') throw new UsageError('--catch-up must be skip or once');
  if (options.priority !== undefined && !(PRIORITIES as readonly string[]).includes(options.priority)) throw new UsageError('--priority must be high, normal or low');
  let channels: Channel[] | null = null;
  if (options.channel) {
    channels = options.channel.split(',').map((c) => c.trim()) as Channel[];
    for (const c of channels) if (!(CHANNELS as readonly string[]).includes(c)) throw new UsageError(`--channel "${c}" is not a channel: use push, sms or email`);
  }
  const data = await readTemplateData(options, deps);
  const config = await deps.config();
  const tz = options.tz ?? config.defaults.timezone;
  const { checkCron, nextOccurrence } = await import('../../core/schedule.js');
  checkCron(options.cron, tz);
  const store = await deps.store();
  const template = await store.templates.require(options.template);
  await store.segments.require(options.segment);
  if (channels) {
    for (const c of channels) if (!template.def[c]) throw new InputError(`template "${options.template}" has no ${c} part`, { field: 'channel' });
  }
  return store.schedules.add({
    name: options.name, cron: options.cron, timezone: tz, template: options.template, segment: options.segment, channels, data,
    priority: (options.priority as Priority | undefined) ?? null, catchUp: (options.catchUp as 'skip' | 'once' | undefined) ?? 'skip',
    nextRunAt: nextOccurrence(options.cron, tz, deps.clock.now()) ?? null,
  });
}
