import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { printRows } from '../../io.js';
import type { NotificationRow, NotificationStatus } from '../../store/notifications.js';
import { positiveInt } from '../shared.js';
import { CAMPAIGN_COLUMNS, notificationJson } from './print.js';

export interface ListOptions { status?: string; all?: boolean; limit?: number; json?: boolean }

export function register(parent: Command, ctx: Ctx): void {
  parent.command('list')
    .description('campaigns (sends to a segment), newest first; --all includes sends to users')
    .option('--status <status>', 'only this status: scheduled, fanning, active, paused, canceled, done')
    .option('--all', 'include notifications sent to users, not only campaigns')
    .option('--limit <n>', 'at most this many (default 50)', positiveInt)
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  $ notify campaigns list\n  $ notify campaigns list --status scheduled --json')
    .action(ctx.action(async (deps, opts: ListOptions) => {
      const rows = await run(opts, deps);
      await printRows(deps.io, rows, CAMPAIGN_COLUMNS, { json: opts.json, toJson: notificationJson, empty: 'No campaigns.' });
    }));
}

export async function run(options: ListOptions, deps: Deps): Promise<NotificationRow[]> {
  const store = await deps.store();
  const rows = await store.notifications.list({ campaignsOnly: !options.all, status: options.status ? [options.status as NotificationStatus] : undefined, limit: options.limit });
  // Counts are kept at fan-out; refresh delivery progress for the ones still moving.
  for (const n of rows) if (['active', 'fanning', 'paused'].includes(n.status)) Object.assign(n.counts, store.notifications.deliveryCounts(n.id));
  return rows;
}
