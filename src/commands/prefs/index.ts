import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import * as set from './set.js';
import * as show from './show.js';
import * as suppress from './suppress.js';
import * as unsuppress from './unsuppress.js';
import * as suppressions from './suppressions.js';
import { describe } from '../catalog.js';

const HELP = `
How a choice is resolved for a channel and category, most specific first:
  1. the person's choice for that channel and category     (prefs set --channel email --category marketing --opt-out)
  2. the person's choice for the whole channel              (prefs set --channel sms --opt-out)
  3. the default: transactional categories are opted in; marketing follows defaults.marketingOptIn
Every change is kept in the consent trail with its time and source (prefs show --history).

Suppressions are addresses nobody may send to (bounces, complaints), whoever they belong to.

Examples:
  $ notify prefs set --user u1 --channel email --category marketing --opt-out
  $ notify prefs show --user u1 --history
  $ notify prefs suppress --channel email --address ada@example.com --reason bounced`;

export function register(program: Command, ctx: Ctx): void {
  const prefs = program.command('prefs')
    .description(describe('prefs'))
    .addHelpText('after', HELP);
  for (const verb of [set, show, suppress, unsuppress, suppressions]) verb.register(prefs, ctx);
}
