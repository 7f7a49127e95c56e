import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { NotFoundError } from '../../errors.js';
import { confirmDestructive } from '../shared.js';

export interface RemoveOptions { ids: string[]; yes?: boolean }

export function register(parent: Command, ctx: Ctx): void {
  parent.command('remove <id...>')
    .description('remove users with their devices and preferences (delivery history stays)')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText('after', '\nExamples:\n  $ notify users remove u1 --yes')
    .action(ctx.action(async (deps, ids: string[], opts: { yes?: boolean }) => {
      const removed = await run({ ids, ...opts }, deps);
      deps.io.stdout.write(removed.length ? `Removed ${removed.join(', ')}\n` : 'Nothing removed.\n');
    }));
}

export async function run(options: RemoveOptions, deps: Deps): Promise<string[]> {
  const store = await deps.store();
  for (const id of options.ids) await store.users.require(id);
  const plural = options.ids.length === 1 ? `user ${options.ids[0]}` : `${options.ids.length} users`;
  if (!(await confirmDestructive(deps, options.yes, `Remove ${plural}?`))) return [];
  const removed: string[] = [];
  for (const id of options.ids) if (await store.users.remove(id)) removed.push(id);
  if (removed.length === 0) throw new NotFoundError('no users were removed');
  return removed;
}
