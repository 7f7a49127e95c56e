/** `notify init`: creates the home directory, config.json (0600) and the database. */
import { existsSync, mkdirSync, rmSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { Ctx } from '../cli.js';
import type { Deps } from '../deps.js';
import { configPath, databasePath, writeRawConfig } from '../config-file.js';
import type { Config } from '../config.js';
import { UsageError } from '../errors.js';
import { notice } from '../io.js';
import { describe } from './catalog.js';

export interface InitOptions {
  country?: string;
  timezone?: string;
  marketingOptIn?: boolean;
  marketingCap?: number;
  database?: string;
  force?: boolean;
  yes?: boolean;
  json?: boolean;
}

export interface InitResult {
  home: string;
  config: string;
  database: string;
}

const EXAMPLES = `
Examples:
  $ notify init                       # asks a few questions on a terminal
  $ notify init --yes --country KR --timezone Asia/Seoul
  $ notify --home /srv/notify init --yes --force`;

export function register(program: Command, ctx: Ctx): void {
  program
    .command('init')
    .description(describe('init'))
    .option('--country <CC>', 'default country for phone numbers without a country code (ISO 3166, e.g. US, KR)')
    .option('--timezone <tz>', 'default timezone for users without one (IANA, e.g. Asia/Seoul)')
    .option('--marketing-opt-in', 'users with no recorded choice receive marketing (default: they do not)')
    .option('--marketing-cap <n>', 'marketing notifications per user per 24 h (default 5)', Number)
    .option('--database <file>', 'SQLite file, relative to the home (default notify.db)')
    .option('--force', 'replace an existing home\'s config and database')
    .option('-y, --yes', 'take defaults for everything not given; never prompt')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', EXAMPLES)
    .action(ctx.action(async (deps, opts: InitOptions) => {
      const result = await run(opts, deps);
      if (opts.json) deps.io.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else deps.io.stdout.write(`Initialized notify in ${result.home}\n  config:   ${result.config}\n  database: ${result.database}\nEvery channel uses the built-in "log" provider until you configure credentials (notify config set channels.<name>...).\n`);
    }));
}

export async function run(options: InitOptions, deps: Deps): Promise<InitResult> {
  const { home, io } = deps;
  const interactive = !options.yes && io.inIsTTY && io.isTTY;
  if (existsSync(configPath(home)) && !options.force) {
    throw new UsageError(`${home} is already a notify home: pass --force to replace its config and database`);
  }
  if (options.marketingCap !== undefined && (!Number.isInteger(options.marketingCap) || options.marketingCap < 0)) {
    throw new UsageError('--marketing-cap must be a whole number, 0 or more');
  }
  let country = options.country?.toUpperCase();
  let timezone = options.timezone;
  let marketingOptIn = options.marketingOptIn;
  if (interactive) {
    country ??= (await deps.prompter.input('Default country for phone numbers (ISO code)', 'US')).toUpperCase();
    timezone ??= await deps.prompter.input('Default timezone for users without one', Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
    marketingOptIn ??= await deps.prompter.confirm('Send marketing to users who have not chosen?', false);
  }
  if (timezone) (await import('../core/validate.js')).checkTimezone(timezone, '--timezone');
  const raw = {
    database: options.database ?? 'notify.db',
    defaults: { country: country ?? 'US', timezone: timezone ?? 'UTC', locale: 'en', marketingOptIn: marketingOptIn ?? false },
    categories: {
      transactional: { transactional: true }, security: { transactional: true },
      social: { transactional: true }, marketing: { transactional: false },
    },
    limits: { marketing: { perDay: options.marketingCap ?? 5 } },
    channels: {
      apns: { provider: 'log' }, fcm: { provider: 'log' }, webpush: { provider: 'log' },
      sms: { provider: 'log' }, email: { provider: 'log' },
    },
    tracking: { key: randomBytes(32).toString('base64url') },
  };
  // Validate before touching the disk, so a bad flag writes nothing.
  const { parseConfig } = await import('../config.js');
  const config: Config = parseConfig(raw, 'notify init');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const dbPath = databasePath(home, config);
  if (options.force) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
  }
  writeRawConfig(home, raw);
  const { openStore } = await import('../store/index.js');
  const store = await openStore(dbPath, deps.clock);
  await store.close();
  chmodSync(dbPath, 0o600);
  notice(io, 'Next: notify users add <id> --email ... or notify users import users.csv');
  return { home, config: configPath(home), database: dbPath };
}
