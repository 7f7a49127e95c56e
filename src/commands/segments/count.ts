import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { UsageError } from '../../errors.js';

export interface CountOptions {
  /** A saved segment's name; or */
  name?: string;
  /** an expression to count without saving it. */
  where?: string;
  json?: boolean;
}

export interface CountResult {
  /** The segment counted; null for --where. */
  segment: string | null;
  /** The expression counted with --where; absent for a named segment. */
  where?: string;
  count: number;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('count [name]')
    .description('print how many users a segment, or an expression, matches now')
    .option('--where <expr>', 'count an expression instead of a saved segment')
    .option('--json', 'print {"segment", "count"} as JSON')
    .addHelpText('after', `
Examples:
  $ notify segments count korea
  $ notify segments count all
  $ notify segments count --where "has push and locale = 'ko'" --json`)
    .action(ctx.action(async (deps, name: string | undefined, opts: Omit<CountOptions, 'name'>) => {
      const result = await run({ name, ...opts }, deps);
      deps.io.stdout.write(opts.json ? JSON.stringify(result, null, 2) + '\n' : `${result.count}\n`);
    }));
}

export async function run(options: CountOptions, deps: Deps): Promise<CountResult> {
  if (options.name !== undefined && options.where !== undefined) {
    throw new UsageError('pass a segment name or --where, not both');
  }
  if (options.name === undefined && options.where === undefined) {
    throw new UsageError('pass a segment name or --where EXPR (for example: notify segments count all)');
  }
  if (options.where !== undefined) {
    // Compiled before the store is opened: a bad expression fails without touching the database.
    const { compileSegment } = await import('../../core/segment.js');
    const filter = compileSegment(options.where);
    const store = await deps.store();
    return { segment: null, where: options.where, count: await store.segments.countWhere(filter) };
  }
  const store = await deps.store();
  return { segment: options.name!, count: await store.segments.count(options.name!) };
}
