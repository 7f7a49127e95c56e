import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { printRows } from '../../io.js';
import type { Schedule } from '../../store/schedules.js';
import { SCHEDULE_COLUMNS, scheduleJson } from './print.js';

export function register(parent: Command, ctx: Ctx): void {
  parent.command('list')
    .description('recurring sends and their next run')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  $ notify schedule list\n  $ notify schedule list --json')
    .action(ctx.action(async (deps, opts: { json?: boolean }) => {
      await printRows(deps.io, await run({}, deps), SCHEDULE_COLUMNS, { json: opts.json, toJson: scheduleJson, empty: 'No schedules.' });
    }));
}

export async function run(_options: Record<string, never>, deps: Deps): Promise<Schedule[]> {
  return (await deps.store()).schedules.list();
}
