/** `campaigns cancel|pause|resume`: the three state changes share one shape. */
import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import type { NotificationRow } from '../../store/notifications.js';
import { confirmDestructive } from '../shared.js';
import { notificationJson } from './print.js';

export type StateAction = 'cancel' | 'pause' | 'resume';

export interface StateOptions { id: string; action: StateAction; yes?: boolean; json?: boolean }

const VERBS: Record<StateAction, { description: string; done: string; example: string }> = {
  cancel: { description: 'stop a campaign for good: deliveries not yet sent are canceled', done: 'Canceled', example: 'notify campaigns cancel n_AbC123 --yes' },
  pause: { description: 'stop sending a campaign until resumed (in-flight sends finish)', done: 'Paused', example: 'notify campaigns pause n_AbC123' },
  resume: { description: 'continue a paused campaign where it stopped', done: 'Resumed', example: 'notify campaigns resume n_AbC123' },
};

export function register(parent: Command, ctx: Ctx): void {
  for (const action of Object.keys(VERBS) as StateAction[]) {
    const verb = VERBS[action];
    const cmd = parent.command(`${action} <id>`).description(verb.description).option('--json', 'print the campaign as JSON');
    if (action === 'cancel') cmd.option('-y, --yes', 'do not ask for confirmation');
    cmd.addHelpText('after', `\nExamples:\n  $ ${verb.example}`)
      .action(ctx.action(async (deps, id: string, opts: { yes?: boolean; json?: boolean }) => {
        const n = await run({ id, action, ...opts }, deps);
        if (!n) return void deps.io.stdout.write('Nothing changed.\n');
        if (opts.json) deps.io.stdout.write(JSON.stringify(notificationJson(n), null, 2) + '\n');
        else deps.io.stdout.write(`${verb.done} ${n.id} (${n.status})\n`);
      }));
  }
}

export async function run(options: StateOptions, deps: Deps): Promise<NotificationRow | undefined> {
  const store = await deps.store();
  await store.notifications.require(options.id);
  if (options.action === 'cancel' && !(await confirmDestructive(deps, options.yes, `Cancel ${options.id}? Deliveries not yet sent will never be sent`))) return undefined;
  const n = await store.notifications.setState(options.id, options.action);
  if (options.action === 'resume') {
    const { wakeDaemon } = await import('../../daemon/client.js');
    await wakeDaemon(deps.home);
  }
  return n;
}
