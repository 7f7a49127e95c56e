import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { redact } from '../../config-file.js';

export interface ShowOptions { json?: boolean }

export function register(parent: Command, ctx: Ctx): void {
  parent.command('show')
    .description('print the whole config with defaults filled in and secrets redacted')
    .option('--json', 'print as JSON (the default format; kept for symmetry)')
    .addHelpText('after', '\nExamples:\n  $ notify config show\n  $ notify config show | jq .channels')
    .action(ctx.action(async (deps, opts: ShowOptions) => {
      deps.io.stdout.write(JSON.stringify(await run(opts, deps), null, 2) + '\n');
    }));
}

export async function run(_options: ShowOptions, deps: Deps): Promise<unknown> {
  return redact(await deps.config());
}
