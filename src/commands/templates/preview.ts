import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { InputError, UsageError } from '../../errors.js';
import { printRecord } from '../../io.js';
import { CHANNELS, type Channel, type RenderedEmail, type RenderedPush, type RenderedSms } from '../../core/types.js';
import type { SmsEncoding } from '../../core/sms.js';
import { collect, positiveInt, readTemplateData } from '../shared.js';

export interface PreviewOptions {
  name: string;
  /** The user to render for. */
  user: string;
  /** `key=value` pairs for data.*; values are JSON when they parse. They win over --data-file. */
  data?: string[];
  /** A JSON object for data.*. */
  dataFile?: string;
  /** One channel; default every channel the template has. */
  channel?: string;
  /** Pretend the user has this locale. Default: the user's, else config defaults.locale. */
  locale?: string;
  /** Default: the current version. */
  version?: number;
  json?: boolean;
}

export interface PreviewResult {
  template: string;
  version: number;
  userId: string;
  /** The locale rendered for. */
  locale: string;
  /** The locale variant it selected; null means the default parts. */
  variant: string | null;
  push?: RenderedPush;
  sms?: RenderedSms & { encoding: SmsEncoding; segments: number; units: number };
  email?: RenderedEmail;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('preview <name>')
    .description('render a template for one user exactly as it would be sent')
    .requiredOption('--user <id>', 'the user to render for')
    .option('--data <key=value>', 'data.* value (repeatable); values are JSON when they parse', collect, [])
    .option('--data-file <file>', 'data.* from a JSON object file (- reads stdin)')
    .option('--channel <channel>', 'only this channel: push, sms or email')
    .option('--locale <tag>', 'render as if the user had this locale')
    .option('--version <n>', 'render this version instead of the current one', positiveInt)
    .option('--json', 'print as JSON')
    .addHelpText('after', `
SMS previews also show the encoding (GSM-7, or UCS-2 for text GSM-7 cannot carry) and how many
segments the carrier bills. A variable the data does not define is an error naming it.

Examples:
  $ notify templates preview order-shipped --user u1 --data order=A-1001 --data url=https://ex.com/t/1
  $ notify templates preview promo --user k1 --channel sms --data-file promo-data.json
  $ notify templates preview promo --user u1 --locale ko --json`)
    .action(ctx.action(async (deps, name: string, opts: Omit<PreviewOptions, 'name'>) => {
      const result = await run({ name, ...opts }, deps);
      print(deps, result, opts.json);
    }));
}

export async function run(options: PreviewOptions, deps: Deps): Promise<PreviewResult> {
  let only: Channel | undefined;
  if (options.channel !== undefined) {
    if (!(CHANNELS as readonly string[]).includes(options.channel)) throw new UsageError(`--channel must be push, sms or email, not "${options.channel}"`);
    only = options.channel as Channel;
  }
  const data = await readTemplateData(options, deps);
  const [store, config, { compileTemplate, renderContext }, { smsInfo }, { checkLocale }] = await Promise.all([
    deps.store(), deps.config(), import('../../core/render.js'), import('../../core/sms.js'), import('../../core/validate.js'),
  ]);
  const template = await store.templates.require(options.name, options.version);
  const user = await store.users.require(options.user);
  const locale = options.locale !== undefined ? checkLocale(options.locale) : user.locale ?? config.defaults.locale;
  const compiled = compileTemplate(template.def);
  const ctx = renderContext(user, data);
  const result: PreviewResult = {
    template: template.name, version: template.version, userId: user.id, locale, variant: compiled.variant(locale) ?? null,
  };
  const channels = only ? [only] : CHANNELS.filter((c) => compiled.has(c, locale));
  for (const channel of channels) {
    if (!compiled.has(channel, locale)) throw new InputError(`template "${template.name}" has no ${channel} part for locale ${locale}: leave out --channel or add the part`, { field: channel });
  }
  for (const channel of channels) {
    if (channel === 'push') result.push = compiled.render('push', ctx, locale);
    else if (channel === 'email') result.email = compiled.render('email', ctx, locale);
    else {
      const sms = compiled.render('sms', ctx, locale);
      const info = smsInfo(sms.body);
      result.sms = { ...sms, encoding: info.encoding, segments: info.segments, units: info.units };
    }
  }
  return result;
}


function print(deps: Deps, result: PreviewResult, json: boolean | undefined): void {
  if (json) {
    deps.io.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return;
  }
  const record: Record<string, unknown> = {
    template: `${result.template} v${result.version}`,
    user: result.userId,
    locale: result.variant && result.variant !== result.locale.toLowerCase() ? `${result.locale} (variant ${result.variant})` : result.locale,
  };
  if (result.push) {
    const { data, ...rest } = result.push;
    for (const [k, v] of Object.entries(rest)) record[`push.${k}`] = v;
    for (const [k, v] of Object.entries(data)) record[`push.data.${k}`] = v;
  }
  if (result.sms) {
    record['sms.body'] = result.sms.body;
    record['sms.encoding'] = result.sms.encoding;
    record['sms.segments'] = `${result.sms.segments} (${result.sms.units} ${result.sms.encoding === 'GSM-7' ? 'septets' : 'UTF-16 units'})`;
  }
  if (result.email) {
    record['email.subject'] = result.email.subject;
    record['email.text'] = result.email.text;
    if (result.email.html !== undefined) record['email.html'] = result.email.html;
  }
  printRecord(deps.io, record);
}
