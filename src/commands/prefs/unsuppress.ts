import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { checkChannel } from '../../core/policy.js';
import { NotFoundError } from '../../errors.js';

export interface UnsuppressOptions { channel: string; address: string }

export function register(parent: Command, ctx: Ctx): void {
  parent.command('unsuppress')
    .description('allow sends to a suppressed address again')
    .requiredOption('--channel <channel>', 'push, sms or email')
    .requiredOption('--address <address>', 'the suppressed address')
    .addHelpText('after', '\nExamples:\n  $ notify prefs unsuppress --channel email --address ada@example.com')
    .action(ctx.action(async (deps, opts: UnsuppressOptions) => {
      const address = await run(opts, deps);
      deps.io.stdout.write(`Unsuppressed ${opts.channel} ${address}\n`);
    }));
}

/** Returns the normalised address. */
export async function run(options: UnsuppressOptions, deps: Deps): Promise<string> {
  const channel = checkChannel(options.channel);
  const config = await deps.config();
  const { normalizeAddress } = await import('./address.js');
  const address = normalizeAddress(channel, options.address, config.defaults.country);
  const store = await deps.store();
  if (!(await store.prefs.unsuppress(channel, address))) {
    throw new NotFoundError(`${channel} ${address} is not suppressed: see "notify prefs suppressions"`);
  }
  return address;
}
