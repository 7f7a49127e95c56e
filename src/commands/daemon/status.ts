import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { NotifyError } from '../../errors.js';
import type { DaemonStatus } from '../../daemon/daemon.js';
import { formatStatus } from './view.js';
import { runTop } from '../top.js';

export interface StatusOptions { json?: boolean; watch?: boolean }

/** Exit 3 when no daemon runs, as `systemctl status` does. */
export class NotRunningError extends NotifyError {
  override exitCode = 3;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('status')
    .description('is the daemon running: pid, uptime, queue depths and rates (exit 3 when not running)')
    .option('--json', 'print as JSON')
    .option('--watch', 'keep refreshing (the same view as notify top)')
    .addHelpText('after', '\nExamples:\n  $ notify daemon status\n  $ notify daemon status --json | jq .lanes\n  $ notify daemon status --watch')
    .action(ctx.action(async (deps, opts: StatusOptions) => {
      if (opts.watch) return runTop({}, deps);
      const status = await run(opts, deps);
      if (opts.json) deps.io.stdout.write(JSON.stringify({ running: Boolean(status), ...(status ?? {}) }, null, 2) + '\n');
      else if (status) deps.io.stdout.write(formatStatus(status));
      if (!status) throw new NotRunningError(`no daemon is running for ${deps.home}: start one with "notify daemon start"`);
    }));
}

export async function run(_options: StatusOptions, deps: Deps): Promise<DaemonStatus | undefined> {
  const { readStatus } = await import('../../daemon/client.js');
  return readStatus(deps.home);
}
