import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { confirmDestructive } from '../shared.js';

export function register(parent: Command, ctx: Ctx): void {
  parent.command('remove <name>')
    .description('remove a schedule (its past runs and notifications stay)')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText('after', '\nExamples:\n  $ notify schedule remove morning-digest --yes')
    .action(ctx.action(async (deps, name: string, opts: { yes?: boolean }) => {
      deps.io.stdout.write((await run({ name, ...opts }, deps)) ? `Removed ${name}\n` : 'Nothing removed.\n');
    }));
}

export async function run(options: { name: string; yes?: boolean }, deps: Deps): Promise<boolean> {
  const store = await deps.store();
  await store.schedules.require(options.name);
  if (!(await confirmDestructive(deps, options.yes, `Remove schedule ${options.name}?`))) return false;
  return store.schedules.remove(options.name);
}
