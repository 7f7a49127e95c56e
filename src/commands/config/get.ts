import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { checkKey, getPath, redact } from '../../config-file.js';
import { NotFoundError } from '../../errors.js';

export interface GetOptions { key: string; json?: boolean; showSecret?: boolean }

export function register(parent: Command, ctx: Ctx): void {
  parent.command('get <key>')
    .description('print one config value (defaults included)')
    .option('--json', 'print as JSON')
    .option('--show-secret', 'print a secret value instead of ********')
    .addHelpText('after', '\nExamples:\n  $ notify config get limits.marketing.perDay\n  $ notify config get channels.email --json')
    .action(ctx.action(async (deps, key: string, opts: Omit<GetOptions, 'key'>) => {
      const value = await run({ key, ...opts }, deps);
      const text = opts.json || (typeof value === 'object' && value !== null) ? JSON.stringify(value, null, 2) : String(value);
      deps.io.stdout.write(text + '\n');
    }));
}

export async function run(options: GetOptions, deps: Deps): Promise<unknown> {
  const parts = checkKey(options.key);
  const config = await deps.config();
  const shown = options.showSecret ? config : redact(config);
  const value = getPath(shown, parts);
  if (value === undefined) throw new NotFoundError(`config has no key "${options.key}": see "notify config show"`);
  return value;
}
