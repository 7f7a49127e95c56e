import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import type { SubmitResult } from '../../submit.js';

export function register(parent: Command, ctx: Ctx): void {
  parent.command('run-now <name>')
    .description('send a schedule\'s notification now, outside its cron (its next occurrence still runs)')
    .option('--json', 'print the notification as JSON')
    .addHelpText('after', '\nExamples:\n  $ notify schedule run-now morning-digest')
    .action(ctx.action(async (deps, name: string, opts: { json?: boolean }) => {
      const r = await run({ name }, deps);
      const n = r.notification;
      if (opts.json) deps.io.stdout.write(JSON.stringify({ id: n.id, status: n.status, counts: n.counts }, null, 2) + '\n');
      else deps.io.stdout.write(`Ran ${name}: notification ${n.id} (${n.status})\n`);
    }));
}

export async function run(options: { name: string }, deps: Deps): Promise<SubmitResult> {
  const store = await deps.store();
  const s = await store.schedules.require(options.name);
  const [config, { submit }, { wakeDaemon }] = await Promise.all([deps.config(), import('../../submit.js'), import('../../daemon/client.js')]);
  const r = await submit({
    template: s.template, segment: s.segment, channels: s.channels ?? undefined, data: s.data, priority: s.priority ?? undefined,
    eventId: `schedule:${s.name}:manual:${new Date(deps.clock.now()).toISOString()}`, source: 'schedule',
  }, store, config, deps.clock);
  await wakeDaemon(deps.home);
  return r;
}
