import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { printRecord } from '../../io.js';
import type { Schedule, ScheduleRun } from '../../store/schedules.js';
import { scheduleJson } from './print.js';

export function register(parent: Command, ctx: Ctx): void {
  parent.command('show <name>')
    .description('one schedule and its recent runs')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  $ notify schedule show morning-digest')
    .action(ctx.action(async (deps, name: string, opts: { json?: boolean }) => {
      const { schedule, runs } = await run({ name }, deps);
      const runsJson = runs.map((r) => ({ ...r, occurrence: new Date(r.occurrence).toISOString(), at: new Date(r.at).toISOString() }));
      if (opts.json) return void deps.io.stdout.write(JSON.stringify({ ...scheduleJson(schedule), runs: runsJson }, null, 2) + '\n');
      printRecord(deps.io, { ...scheduleJson(schedule), data: JSON.stringify(schedule.data) });
      for (const r of runsJson) deps.io.stdout.write(`  ${r.occurrence}  ${r.status}${r.notificationId ? `  ${r.notificationId}` : ''}${r.detail ? `  (${r.detail})` : ''}\n`);
    }));
}

export async function run(options: { name: string }, deps: Deps): Promise<{ schedule: Schedule; runs: ScheduleRun[] }> {
  const store = await deps.store();
  const schedule = await store.schedules.require(options.name);
  return { schedule, runs: await store.schedules.runs(options.name) };
}
