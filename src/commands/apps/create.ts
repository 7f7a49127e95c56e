import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { UsageError } from '../../errors.js';
import { notice, printRecord } from '../../io.js';
import { APP_SCOPES, checkScopes, type AppScope, type AppWithSecret } from '../../store/apps.js';
import { appJson, secretRecord } from './print.js';

export interface CreateOptions {
  name: string;
  /** Comma-separated scopes. Default: every scope. */
  scopes?: string;
  /** Requests per second: `200`, `200/s`, `6000/m` or `100000/h`. Default 200/s. */
  rate?: string;
  json?: boolean;
}

const PER = { s: 1, sec: 1, m: 60, min: 60, h: 3600 } as const;

/** `200/s`, `6000/m`, `200` -> requests per second. */
export function parseRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|m|min|h))?\s*$/.exec(text);
  const rate = m ? Number(m[1]) / PER[(m[2] ?? 's') as keyof typeof PER] : NaN;
  if (!m || !(rate > 0)) throw new UsageError(`--rate "${text}" is not a rate: use requests per second, minute or hour such as 200/s or 6000/m`);
  return rate;
}

export function parseScopes(text: string): AppScope[] {
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  try {
    return checkScopes(list);
  } catch {
    const bad = list.find((s) => !(APP_SCOPES as readonly string[]).includes(s));
    throw new UsageError(bad ? `--scopes "${bad}" is not a scope: use ${APP_SCOPES.join(', ')}` : `--scopes needs at least one of ${APP_SCOPES.join(', ')}`);
  }
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('create <name>')
    .description('create an app key and secret for the API (the secret is printed once)')
    .option('--scopes <list>', `comma-separated: ${APP_SCOPES.join(', ')} (default: all)`)
    .option('--rate <rate>', 'requests it may make, such as 200/s or 6000/m (default 200/s)')
    .option('--json', 'print the key and secret as JSON')
    .addHelpText('after', `
Examples:
  $ notify apps create checkout --scopes send --rate 500/s
  $ notify apps create mobile --scopes contacts,preferences,events --json > mobile-credentials.json`)
    .action(ctx.action(async (deps, name: string, opts: Omit<CreateOptions, 'name'>) => {
      const { app, secret } = await run({ name, ...opts }, deps);
      printRecord(deps.io, secretRecord(app, secret), { json: opts.json, jsonValue: { ...appJson(app), secret } });
      notice(deps.io, 'The secret is shown only this once: store it now. Clients send it as HTTP Basic auth (key:secret).');
    }));
}

export async function run(options: CreateOptions, deps: Deps): Promise<AppWithSecret> {
  const scopes = options.scopes !== undefined ? parseScopes(options.scopes) : undefined;
  const ratePerSec = options.rate !== undefined ? parseRate(options.rate) : undefined;
  const store = await deps.store();
  return store.apps.create({ name: options.name, scopes, ratePerSec });
}
