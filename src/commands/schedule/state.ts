/** `schedule pause|resume`. Resuming waits for the next occurrence from now; paused ones are not caught up. */
import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import type { Schedule } from '../../store/schedules.js';

export function register(parent: Command, ctx: Ctx): void {
  for (const action of ['pause', 'resume'] as const) {
    parent.command(`${action} <name>`)
      .description(action === 'pause' ? 'stop a schedule from running until resumed' : 'run a paused schedule again from its next occurrence')
      .addHelpText('after', `\nExamples:\n  $ notify schedule ${action} morning-digest`)
      .action(ctx.action(async (deps, name: string) => {
        const s = await run({ name, action }, deps);
        deps.io.stdout.write(s.paused ? `Paused ${s.name}\n` : `Resumed ${s.name}; next run ${s.nextRunAt ? new Date(s.nextRunAt).toISOString() : 'never'}\n`);
      }));
  }
}

export async function run(options: { name: string; action: 'pause' | 'resume' }, deps: Deps): Promise<Schedule> {
  const store = await deps.store();
  const s = await store.schedules.require(options.name);
  if (options.action === 'pause') return store.schedules.setPaused(s.name, true);
  const { nextOccurrence } = await import('../../core/schedule.js');
  return store.schedules.setPaused(s.name, false, nextOccurrence(s.cron, s.timezone, deps.clock.now()) ?? null);
}
