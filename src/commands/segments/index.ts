import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import * as create from './create.js';
import * as update from './update.js';
import * as list from './list.js';
import * as show from './show.js';
import * as count from './count.js';
import * as remove from './delete.js';
import { describe } from '../catalog.js';

const HELP = `
Expressions:
  field = 'text'   != <> < <= > >=      plan in ('pro', 'team')   plan not in ('free')
  tags contains 'beta'  (a list holds the value, or text holds it)  has email   has push
  nickname is null   nickname is not null   and / or / not with ( )
  Values: 'text' or "text" ('' escapes a quote), numbers, true, false, null.
  Fields: id, name, email, phone, locale, timezone, created_at, updated_at; any other name is an
  attribute (address.city for a nested one). created_at >= '2026-01-01' compares times.
  A user without a field does not match "field = ..." and does match "field != ...".
  The built-in segment "all" is every user.

Examples:
  $ notify segments create korea --where "country = 'KR' and has email"
  $ notify segments count korea
  $ notify segments count --where "plan in ('pro', 'team') and age >= 18"`;

export function register(program: Command, ctx: Ctx): void {
  const segments = program.command('segments')
    .description(describe('segments'))
    .addHelpText('after', HELP);
  for (const verb of [create, update, list, show, count, remove]) verb.register(segments, ctx);
}
