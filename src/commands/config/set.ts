import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { checkKey, isSecretKey, parseValue, readRawConfig, setPath, writeRawConfig } from '../../config-file.js';

export interface SetOptions { key: string; value: string }

export function register(parent: Command, ctx: Ctx): void {
  parent.command('set <key> <value>')
    .description('set a config value; it is validated before anything is written')
    .addHelpText('after', `
Values are read as JSON when they parse (numbers, true/false, arrays), else as text.

Examples:
  $ notify config set limits.marketing.perDay 3
  $ notify config set defaults.country KR
  $ notify config set alerts.email '["ops@example.com"]'`)
    .action(ctx.action(async (deps, key: string, value: string) => {
      await run({ key, value }, deps);
      deps.io.stdout.write(`${key} = ${isSecretKey(key) ? '********' : value}\n`);
    }));
}

export async function run(options: SetOptions, deps: Deps): Promise<void> {
  const parts = checkKey(options.key);
  const raw = readRawConfig(deps.home);
  setPath(raw, parts, parseValue(options.value));
  const { parseConfig } = await import('../../config.js');
  parseConfig(raw, `cannot set ${options.key}`);
  writeRawConfig(deps.home, raw);
}
