import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { printRecord } from '../../io.js';
import type { StoredTemplate } from '../../store/templates.js';
import { positiveInt } from '../shared.js';
import { templateJson, templateRecord } from './print.js';

export interface ShowOptions {
  name: string;
  /** Any version, also of a deleted template. Default: the current version. */
  version?: number;
  json?: boolean;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('show <name>')
    .description('show a template (the current version, or --version N)')
    .option('--version <n>', 'show this version', positiveInt)
    .option('--json', 'print as JSON')
    .addHelpText('after', `
Examples:
  $ notify templates show order-shipped
  $ notify templates show order-shipped --version 1 --json | jq .def.email`)
    .action(ctx.action(async (deps, name: string, opts: Omit<ShowOptions, 'name'>) => {
      const t = await run({ name, ...opts }, deps);
      printRecord(deps.io, templateRecord(t), { json: opts.json, jsonValue: templateJson(t) });
    }));
}

export async function run(options: ShowOptions, deps: Deps): Promise<StoredTemplate> {
  const store = await deps.store();
  return store.templates.require(options.name, options.version);
}
