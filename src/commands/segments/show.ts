import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { printRecord } from '../../io.js';
import { segmentRecord, type CountedSegment } from './print.js';

export interface ShowOptions { name: string; json?: boolean }

export function register(parent: Command, ctx: Ctx): void {
  parent.command('show <name>')
    .description('show a segment: its expression, description and how many users it matches now')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  $ notify segments show korea\n  $ notify segments show korea --json | jq .count')
    .action(ctx.action(async (deps, name: string, opts: { json?: boolean }) => {
      const segment = await run({ name, ...opts }, deps);
      printRecord(deps.io, segmentRecord(segment), { json: opts.json, jsonValue: segment });
    }));
}

export async function run(options: ShowOptions, deps: Deps): Promise<CountedSegment> {
  const store = await deps.store();
  const segment = await store.segments.require(options.name);
  return { ...segment, count: await store.segments.count(segment.name) };
}
