import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import type { User } from '../../core/types.js';
import { printRecord } from '../../io.js';
import { userRecord } from './print.js';

export interface ShowOptions { id: string; json?: boolean }

export function register(parent: Command, ctx: Ctx): void {
  parent.command('show <id>')
    .description('show one user')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  $ notify users show u1\n  $ notify users show u1 --json | jq .email')
    .action(ctx.action(async (deps, id: string, opts: { json?: boolean }) => {
      const user = await run({ id, ...opts }, deps);
      printRecord(deps.io, userRecord(user), { json: opts.json, jsonValue: user });
    }));
}

export async function run(options: ShowOptions, deps: Deps): Promise<User> {
  const store = await deps.store();
  return store.users.require(options.id);
}
