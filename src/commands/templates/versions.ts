import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { printRows } from '../../io.js';
import type { TemplateVersion } from '../../store/templates.js';
import { VERSION_COLUMNS } from './print.js';

export interface VersionsOptions { name: string; json?: boolean }

export function register(parent: Command, ctx: Ctx): void {
  parent.command('versions <name>')
    .description('list every version of a template (also of a deleted one)')
    .option('--json', 'print as JSON')
    .addHelpText('after', `
Examples:
  $ notify templates versions order-shipped
  $ notify templates show order-shipped --version 2`)
    .action(ctx.action(async (deps, name: string, opts: Omit<VersionsOptions, 'name'>) => {
      const rows = await run({ name, ...opts }, deps);
      await printRows(deps.io, rows, VERSION_COLUMNS, { json: opts.json });
    }));
}

export async function run(options: VersionsOptions, deps: Deps): Promise<TemplateVersion[]> {
  const store = await deps.store();
  return store.templates.versions(options.name);
}
