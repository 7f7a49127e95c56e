import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { confirmDestructive } from '../shared.js';

export interface DeleteOptions { name: string; yes?: boolean }

export function register(parent: Command, ctx: Ctx): void {
  parent.command('delete <name>')
    .description('delete a template: no new sends can use it; its versions stay for the sends that used them')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText('after', `
Creating the name again continues its version numbers.

Examples:
  $ notify templates delete old-promo --yes
  $ notify templates versions old-promo`)
    .action(ctx.action(async (deps, name: string, opts: { yes?: boolean }) => {
      const deleted = await run({ name, ...opts }, deps);
      deps.io.stdout.write(deleted ? `Deleted template ${name}\n` : 'Nothing deleted.\n');
    }));
}

export async function run(options: DeleteOptions, deps: Deps): Promise<boolean> {
  const store = await deps.store();
  await store.templates.require(options.name);
  if (!(await confirmDestructive(deps, options.yes, `Delete template ${options.name}?`))) return false;
  await store.templates.delete(options.name);
  return true;
}
