import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { printRecord } from '../../io.js';
import { segmentRecord, type CountedSegment } from './print.js';

export interface CreateOptions {
  name: string;
  /** The segment expression. */
  where: string;
  description?: string;
  json?: boolean;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('create <name>')
    .description('save a named filter over users (see "notify segments --help" for expressions)')
    .requiredOption('--where <expr>', 'the segment expression')
    .option('--description <text>', 'what the segment is for')
    .option('--json', 'print the segment as JSON')
    .addHelpText('after', `
Names are lowercase letters, digits, - and _. Prints the segment with how many users it matches now.

Examples:
  $ notify segments create korea --where "country = 'KR' and has email"
  $ notify segments create beta-testers --where "tags contains 'beta' and has push" --description "app beta"`)
    .action(ctx.action(async (deps, name: string, opts: Omit<CreateOptions, 'name'>) => {
      const segment = await run({ name, ...opts }, deps);
      printRecord(deps.io, segmentRecord(segment), { json: opts.json, jsonValue: segment });
    }));
}

export async function run(options: CreateOptions, deps: Deps): Promise<CountedSegment> {
  const store = await deps.store();
  const segment = await store.segments.create(options.name, options.where, options.description);
  return { ...segment, count: await store.segments.count(segment.name) };
}
