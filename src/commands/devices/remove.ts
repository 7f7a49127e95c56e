import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import type { Device } from '../../core/types.js';
import { confirmDestructive, InvalidArgumentError } from '../shared.js';

export interface RemoveOptions { id: number; yes?: boolean }

function deviceId(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a device id (a positive whole number, see "notify devices list").');
  return n;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('remove')
    .argument('<id>', 'device id', deviceId)
    .description('deactivate a device with reason "removed" (it stays listed with --inactive)')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText('after', '\nExamples:\n  $ notify devices remove 12 --yes\n  $ notify devices list --inactive')
    .action(ctx.action(async (deps, id: number, opts: { yes?: boolean }) => {
      const device = await run({ id, ...opts }, deps);
      if (!device) deps.io.stdout.write('Nothing removed.\n');
      else if (device.deactivatedReason !== 'removed') deps.io.stdout.write(`Device ${device.id} was already inactive (${device.deactivatedReason}).\n`);
      else deps.io.stdout.write(`Removed device ${device.id} (${device.platform}, user ${device.userId}).\n`);
    }));
}

/** Returns the device as it is now, or undefined when the person said no at the prompt. */
export async function run(options: RemoveOptions, deps: Deps): Promise<Device | undefined> {
  const store = await deps.store();
  const device = await store.devices.require(options.id);
  if (!device.active) return device;
  if (!(await confirmDestructive(deps, options.yes, `Remove device ${device.id} (${device.platform}) of user ${device.userId}?`))) return undefined;
  return store.devices.remove(options.id);
}
