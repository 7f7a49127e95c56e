import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { checkChannel } from '../../core/policy.js';
import { printRows, type Column } from '../../io.js';
import type { Suppression } from '../../store/prefs.js';

export interface SuppressionsOptions { channel?: string; json?: boolean }

const COLUMNS: Column<Suppression>[] = [
  { header: 'CHANNEL', value: (s) => s.channel },
  { header: 'ADDRESS', value: (s) => s.address },
  { header: 'REASON', value: (s) => s.reason },
  { header: 'AT', value: (s) => s.at },
];

export function register(parent: Command, ctx: Ctx): void {
  parent.command('suppressions')
    .description('list suppressed addresses, newest first')
    .option('--channel <channel>', 'only push, sms or email')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  $ notify prefs suppressions\n  $ notify prefs suppressions --channel email --json')
    .action(ctx.action(async (deps, opts: SuppressionsOptions) => {
      await printRows(deps.io, await run(opts, deps), COLUMNS, { json: opts.json, empty: 'No suppressed addresses.' });
    }));
}

export async function run(options: SuppressionsOptions, deps: Deps): Promise<Suppression[]> {
  const channel = options.channel === undefined ? undefined : checkChannel(options.channel);
  const store = await deps.store();
  return store.prefs.listSuppressions({ channel });
}
