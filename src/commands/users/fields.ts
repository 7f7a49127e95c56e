/** Flags shared by `users add` and `users update`. */
import type { Command } from 'commander';
import { collect, parsePairs } from '../shared.js';

export interface UserFlags {
  name?: string;
  email?: string;
  phone?: string;
  locale?: string;
  timezone?: string;
  attr?: string[];
  json?: boolean;
}

export function addUserFlags(cmd: Command): Command {
  return cmd
    .option('--name <name>', 'display name')
    .option('--email <address>', 'email address')
    .option('--phone <number>', 'phone number; without +country code, defaults.country applies')
    .option('--locale <tag>', 'BCP 47 locale, e.g. en-US or ko')
    .option('--timezone <tz>', 'IANA timezone, e.g. Asia/Seoul')
    .option('--attr <key=value>', 'attribute (repeatable); values are JSON when they parse', collect, [])
    .option('--json', 'print the user as JSON');
}

/** Flag values as raw user fields for normalizeUser. */
export function rawFields(id: string, flags: UserFlags): Record<string, unknown> {
  const raw: Record<string, unknown> = { id };
  for (const key of ['name', 'email', 'phone', 'locale', 'timezone'] as const) {
    if (flags[key] !== undefined) raw[key] = flags[key];
  }
  if (flags.attr && flags.attr.length > 0) raw.attributes = parsePairs(flags.attr, '--attr');
  return raw;
}
