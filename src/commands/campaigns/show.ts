import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { printRecord } from '../../io.js';
import type { NotificationRow } from '../../store/notifications.js';
import { notificationJson } from './print.js';

export interface ShowOptions { id: string; json?: boolean }

export function register(parent: Command, ctx: Ctx): void {
  parent.command('show <id>')
    .description('one campaign or notification: status, audience, timing and delivery counts')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  $ notify campaigns show n_AbC123\n  $ notify campaigns show n_AbC123 --json | jq .counts')
    .action(ctx.action(async (deps, id: string, opts: { json?: boolean }) => {
      const n = await run({ id, ...opts }, deps);
      const j = notificationJson(n);
      printRecord(deps.io, { ...j, data: JSON.stringify(j.data), counts: JSON.stringify(j.counts) }, { json: opts.json, jsonValue: j });
    }));
}

export async function run(options: ShowOptions, deps: Deps): Promise<NotificationRow> {
  const store = await deps.store();
  const n = await store.notifications.require(options.id);
  Object.assign(n.counts, store.notifications.deliveryCounts(n.id));
  return n;
}
