import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { printRows } from '../../io.js';
import type { App } from '../../store/apps.js';
import { APP_COLUMNS, appJson } from './print.js';

export interface ListOptions {
  /** Leave revoked apps out. */
  active?: boolean;
  json?: boolean;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('list')
    .description('list apps with their keys, scopes, rates and status (never their secrets)')
    .option('--active', 'leave revoked apps out')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  $ notify apps list\n  $ notify apps list --active --json')
    .action(ctx.action(async (deps, opts: ListOptions) => {
      const apps = await run(opts, deps);
      await printRows(deps.io, apps, APP_COLUMNS, { json: opts.json, toJson: appJson, empty: 'No apps: create one with "notify apps create NAME".' });
    }));
}

export async function run(options: ListOptions, deps: Deps): Promise<App[]> {
  const store = await deps.store();
  return store.apps.list({ activeOnly: options.active });
}
