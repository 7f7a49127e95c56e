import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import type { Device, Platform } from '../../core/types.js';
import { InputError } from '../../errors.js';
import { PLATFORMS } from '../../core/types.js';
import { printRows } from '../../io.js';
import { positiveInt } from '../shared.js';
import { deviceColumns } from './print.js';

export interface ListOptions {
  user?: string;
  platform?: string;
  /** Also show deactivated devices, with the reason and time. */
  inactive?: boolean;
  /** Page size. Default 100. */
  limit?: number;
  /** Show devices after this id (the last id of the previous page). */
  after?: number;
  json?: boolean;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('list')
    .description('list devices in id order (active ones unless --inactive)')
    .option('--user <id>', 'only this user\'s devices')
    .option('--platform <platform>', 'only ios, android or web')
    .option('--inactive', 'also show deactivated devices, with the reason and time')
    .option('--limit <n>', 'page size (default 100)', positiveInt)
    .option('--after <id>', 'start after this device id (the last id of the previous page)', positiveInt)
    .option('--json', 'print as JSON')
    .addHelpText('after', `
Examples:
  $ notify devices list --user u1
  $ notify devices list --platform web --json
  $ notify devices list --inactive --after 200`)
    .action(ctx.action(async (deps, opts: ListOptions) => {
      const devices = await run(opts, deps);
      await printRows(deps.io, devices, deviceColumns({ inactive: opts.inactive, tty: deps.io.isTTY }), { json: opts.json, empty: 'No devices.' });
    }));
}

export async function run(options: ListOptions, deps: Deps): Promise<Device[]> {
  if (options.platform !== undefined && !(PLATFORMS as readonly string[]).includes(options.platform)) {
    throw new InputError(`"${options.platform}" is not a platform: use ios, android or web`, { field: 'platform' });
  }
  const store = await deps.store();
  if (options.user !== undefined) await store.users.require(options.user);
  return store.devices.list({
    userId: options.user, platform: options.platform as Platform | undefined, inactive: options.inactive,
    limit: options.limit ?? 100, after: options.after,
  });
}
