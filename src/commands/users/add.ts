import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import type { User } from '../../core/types.js';
import { normalizeUser } from '../../core/user.js';
import { printRecord } from '../../io.js';
import { addUserFlags, rawFields, type UserFlags } from './fields.js';
import { userRecord } from './print.js';

export interface AddOptions extends UserFlags { id: string }

export function register(parent: Command, ctx: Ctx): void {
  addUserFlags(parent.command('add <id>').description('add a user (the id is your own external id)'))
    .addHelpText('after', `
Examples:
  $ notify users add u1 --name "Ada" --email ada@example.com --phone +14155550100
  $ notify users add u2 --email min@example.kr --phone 010-1234-5678 --locale ko --timezone Asia/Seoul --attr plan=pro`)
    .action(ctx.action(async (deps, id: string, flags: UserFlags) => {
      const user = await run({ id, ...flags }, deps);
      printRecord(deps.io, userRecord(user), { json: flags.json, jsonValue: user });
    }));
}

export async function run(options: AddOptions, deps: Deps): Promise<User> {
  const config = await deps.config();
  const input = normalizeUser(rawFields(options.id, options), config.defaults);
  const store = await deps.store();
  return store.users.add(input);
}
