import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import type { User } from '../../core/types.js';
import { printRows } from '../../io.js';
import { positiveInt } from '../shared.js';
import { USER_COLUMNS } from './print.js';

export interface ListOptions {
  /** A segment expression, e.g. "country = 'KR' and has email". */
  where?: string;
  /** Page size. Default 50. */
  limit?: number;
  /** Show users after this id (the last id of the previous page). */
  after?: string;
  json?: boolean;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('list')
    .description('list users, a page at a time, in id order')
    .option('--where <expr>', 'filter with a segment expression')
    .option('--limit <n>', 'page size (default 50)', positiveInt)
    .option('--after <id>', 'start after this id (the last id of the previous page)')
    .option('--json', 'print as JSON')
    .addHelpText('after', `
Examples:
  $ notify users list --limit 20
  $ notify users list --where "locale = 'ko' and has phone" --json
  $ notify users list --after u0200`)
    .action(ctx.action(async (deps, opts: ListOptions) => {
      const users = await run(opts, deps);
      await printRows(deps.io, users, USER_COLUMNS, { json: opts.json, empty: 'No users.' });
    }));
}

export async function run(options: ListOptions, deps: Deps): Promise<User[]> {
  const store = await deps.store();
  const where = options.where ? await compileWhere(options.where) : undefined;
  return store.users.list({ where, after: options.after, limit: options.limit ?? 50 });
}

async function compileWhere(expr: string) {
  const { compileSegment } = await import('../../core/segment.js');
  return compileSegment(expr);
}
