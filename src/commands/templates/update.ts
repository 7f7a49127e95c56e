import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { printRecord } from '../../io.js';
import type { StoredTemplate } from '../../store/templates.js';
import { loadTemplate, resolveName } from './source.js';
import { templateJson, templateRecord } from './print.js';

export interface UpdateOptions {
  name: string;
  /** YAML or JSON file; `-` reads stdin. Without it, a terminal is asked. */
  file?: string;
  /** Overrides the file's category; without either, the current category stays. */
  category?: string;
  json?: boolean;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('update <name>')
    .description('replace a template with a new definition; this writes a new version and old ones stay')
    .option('-f, --file <file>', 'YAML or JSON definition (the whole template); - reads stdin')
    .option('--category <name>', 'category (default: the file\'s, else the current one)')
    .option('--json', 'print the new version as JSON')
    .addHelpText('after', `
Sends already made keep the version they used; new sends use the new version.
See "notify templates create --help" for the file format.

Examples:
  $ notify templates update order-shipped --file order-shipped.yaml
  $ notify templates versions order-shipped`)
    .action(ctx.action(async (deps, name: string, opts: Omit<UpdateOptions, 'name'>) => {
      const t = await run({ name, ...opts }, deps);
      printRecord(deps.io, templateRecord(t), { json: opts.json, jsonValue: templateJson(t) });
    }));
}

export async function run(options: UpdateOptions, deps: Deps): Promise<StoredTemplate> {
  const store = await deps.store();
  const current = await store.templates.require(options.name);
  const loaded = await loadTemplate({ ...options, fallbackCategory: current.category }, deps);
  resolveName(options.name, loaded.fileName);
  return store.templates.update(options.name, loaded.def);
}
