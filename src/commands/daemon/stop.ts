import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { NotifyError } from '../../errors.js';
import { positiveInt } from '../shared.js';
import { runningPid } from './start.js';

export interface StopOptions {
  /** Seconds to wait for the drain. Default 30. */
  timeout?: number;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('stop')
    .description('stop the daemon gracefully (SIGTERM: it finishes in-flight sends and releases the rest)')
    .option('--timeout <seconds>', 'how long to wait for it to exit (default 30)', positiveInt)
    .addHelpText('after', '\nExamples:\n  $ notify daemon stop\n  $ notify daemon stop --timeout 60')
    .action(ctx.action(async (deps, opts: StopOptions) => {
      const pid = await run(opts, deps);
      deps.io.stdout.write(pid ? `Stopped daemon (pid ${pid})\n` : `No daemon is running for ${deps.home}\n`);
    }));
}

/** Returns the pid stopped, or undefined when none was running. */
export async function run(options: StopOptions, deps: Deps): Promise<number | undefined> {
  const pid = runningPid(deps.home);
  if (!pid) return undefined;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + (options.timeout ?? 30) * 1000;
  while (Date.now() < deadline) {
    if (!runningPid(deps.home)) return pid;
    try {
      process.kill(pid, 0);
    } catch {
      return pid;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new NotifyError(`daemon (pid ${pid}) is still draining after ${options.timeout ?? 30} s: wait, or send SIGTERM again after 3 s to force it`);
}
