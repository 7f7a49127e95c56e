import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { printRows } from '../../io.js';
import type { TemplateSummary } from '../../store/templates.js';
import { summaryJson, TEMPLATE_COLUMNS } from './print.js';

export interface ListOptions { json?: boolean }

export function register(parent: Command, ctx: Ctx): void {
  parent.command('list')
    .description('list templates at their current versions')
    .option('--json', 'print as JSON')
    .addHelpText('after', `
Examples:
  $ notify templates list
  $ notify templates list --json | jq -r '.[].name'`)
    .action(ctx.action(async (deps, opts: ListOptions) => {
      const rows = await run(opts, deps);
      await printRows(deps.io, rows, TEMPLATE_COLUMNS, { json: opts.json, toJson: summaryJson, empty: 'No templates: add one with "notify templates create NAME --file F".' });
    }));
}

export async function run(_options: ListOptions, deps: Deps): Promise<TemplateSummary[]> {
  const store = await deps.store();
  return store.templates.list();
}
