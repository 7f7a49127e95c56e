import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { checkChannel } from '../../core/policy.js';
import { printRecord } from '../../io.js';
import type { Suppression } from '../../store/prefs.js';

export interface SuppressOptions {
  channel: string;
  address: string;
  /** Why nothing may be sent there. Default "manual". */
  reason?: string;
  json?: boolean;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('suppress')
    .description('stop every send to an address (email, phone number or push token), whoever it belongs to')
    .requiredOption('--channel <channel>', 'push, sms or email')
    .requiredOption('--address <address>', 'email address, phone number, or device token / endpoint')
    .option('--reason <text>', 'why (default "manual")')
    .option('--json', 'print as JSON')
    .addHelpText('after', `
Examples:
  $ notify prefs suppress --channel email --address ada@example.com --reason bounced
  $ notify prefs suppress --channel sms --address +14155550100 --reason "replied STOP"`)
    .action(ctx.action(async (deps, opts: SuppressOptions) => {
      const s = await run(opts, deps);
      printRecord(deps.io, { ...s }, { json: opts.json });
    }));
}

export async function run(options: SuppressOptions, deps: Deps): Promise<Suppression> {
  const channel = checkChannel(options.channel);
  const config = await deps.config();
  const { normalizeAddress } = await import('./address.js');
  const address = normalizeAddress(channel, options.address, config.defaults.country);
  const store = await deps.store();
  return store.prefs.suppress(channel, address, options.reason?.trim() || 'manual');
}
