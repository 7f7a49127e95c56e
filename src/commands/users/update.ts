import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import type { User } from '../../core/types.js';
import { normalizeUser } from '../../core/user.js';
import { printRecord } from '../../io.js';
import { collect } from '../shared.js';
import { addUserFlags, rawFields, type UserFlags } from './fields.js';
import { userRecord } from './print.js';

export interface UpdateOptions extends UserFlags { id: string; unsetAttr?: string[] }

export function register(parent: Command, ctx: Ctx): void {
  addUserFlags(parent.command('update <id>').description('change some fields of a user; others stay as they are'))
    .option('--unset-attr <key>', 'remove an attribute (repeatable)', collect, [])
    .addHelpText('after', `
An empty value clears a field (--phone "").

Examples:
  $ notify users update u1 --email ada@new.example.com
  $ notify users update u1 --attr plan=team --unset-attr trial`)
    .action(ctx.action(async (deps, id: string, flags: UpdateOptions) => {
      const user = await run({ ...flags, id }, deps);
      printRecord(deps.io, userRecord(user), { json: flags.json, jsonValue: user });
    }));
}

export async function run(options: UpdateOptions, deps: Deps): Promise<User> {
  const config = await deps.config();
  const raw = rawFields(options.id, options);
  if (Object.keys(raw).length === 1 && !options.unsetAttr?.length) throw new UsageError('nothing to change: give at least one of --name, --email, --phone, --locale, --timezone, --attr or --unset-attr');
  if (options.unsetAttr?.length) {
    const attrs = (raw.attributes ?? {}) as Record<string, unknown>;
    for (const key of options.unsetAttr) attrs[key] = null;
    raw.attributes = attrs;
  }
  const input = normalizeUser(raw, config.defaults);
  const store = await deps.store();
  return store.users.update(input);
}
