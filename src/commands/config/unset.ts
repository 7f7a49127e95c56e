import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { checkKey, readRawConfig, unsetPath, writeRawConfig } from '../../config-file.js';
import { NotFoundError } from '../../errors.js';

export interface UnsetOptions { key: string }

export function register(parent: Command, ctx: Ctx): void {
  parent.command('unset <key>')
    .description('remove a config value so its default applies again')
    .addHelpText('after', '\nExamples:\n  $ notify config unset limits.marketing.perDay')
    .action(ctx.action(async (deps, key: string) => {
      await run({ key }, deps);
      deps.io.stdout.write(`${key} unset\n`);
    }));
}

export async function run(options: UnsetOptions, deps: Deps): Promise<void> {
  const parts = checkKey(options.key);
  const raw = readRawConfig(deps.home);
  if (!unsetPath(raw, parts)) throw new NotFoundError(`config.json does not set "${options.key}"`);
  const { parseConfig } = await import('../../config.js');
  parseConfig(raw, `cannot unset ${options.key}`);
  writeRawConfig(deps.home, raw);
}
