import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { InputError } from '../../errors.js';
import { confirmDestructive } from '../shared.js';

export interface DeleteOptions { name: string; yes?: boolean }

export function register(parent: Command, ctx: Ctx): void {
  parent.command('delete <name>')
    .description('delete a saved segment (users are not touched; the built-in "all" stays)')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText('after', '\nExamples:\n  $ notify segments delete korea --yes')
    .action(ctx.action(async (deps, name: string, opts: { yes?: boolean }) => {
      const deleted = await run({ name, ...opts }, deps);
      deps.io.stdout.write(deleted ? `Deleted segment ${name}\n` : 'Nothing deleted.\n');
    }));
}

/** Returns false when the person said no at the prompt. */
export async function run(options: DeleteOptions, deps: Deps): Promise<boolean> {
  if (options.name === 'all') throw new InputError('the built-in segment "all" (every user) cannot be deleted', { field: 'name' });
  const store = await deps.store();
  await store.segments.require(options.name);
  if (!(await confirmDestructive(deps, options.yes, `Delete segment ${options.name}?`))) return false;
  await store.segments.delete(options.name);
  return true;
}
