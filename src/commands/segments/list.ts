import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { printRows } from '../../io.js';
import type { Segment } from '../../store/segments.js';
import { SEGMENT_COLUMNS } from './print.js';

export interface ListOptions { json?: boolean }

export function register(parent: Command, ctx: Ctx): void {
  parent.command('list')
    .description('list segments (the built-in "all" first)')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  $ notify segments list\n  $ notify segments list --json | jq -r \'.[].name\'')
    .action(ctx.action(async (deps, opts: ListOptions) => {
      const segments = await run(opts, deps);
      await printRows(deps.io, segments, SEGMENT_COLUMNS, { json: opts.json });
    }));
}

export async function run(_options: ListOptions, deps: Deps): Promise<Segment[]> {
  const store = await deps.store();
  return store.segments.list();
}
