import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { UsageError } from '../../errors.js';
import { printRecord } from '../../io.js';
import { segmentRecord, type CountedSegment } from './print.js';

export interface UpdateOptions {
  name: string;
  /** A new expression; the old one stays when absent. */
  where?: string;
  /** A new description; "" clears it. */
  description?: string;
  json?: boolean;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('update <name>')
    .description('change a segment\'s expression or description')
    .option('--where <expr>', 'the new segment expression')
    .option('--description <text>', 'the new description ("" clears it)')
    .option('--json', 'print the segment as JSON')
    .addHelpText('after', `
Examples:
  $ notify segments update korea --where "country = 'KR' and (has email or has push)"
  $ notify segments update korea --description ""`)
    .action(ctx.action(async (deps, name: string, opts: Omit<UpdateOptions, 'name'>) => {
      const segment = await run({ name, ...opts }, deps);
      printRecord(deps.io, segmentRecord(segment), { json: opts.json, jsonValue: segment });
    }));
}

export async function run(options: UpdateOptions, deps: Deps): Promise<CountedSegment> {
  if (options.where === undefined && options.description === undefined) {
    throw new UsageError('nothing to change: pass --where and/or --description');
  }
  const store = await deps.store();
  const segment = await store.segments.update(options.name, { expression: options.where, description: options.description });
  return { ...segment, count: await store.segments.count(segment.name) };
}
