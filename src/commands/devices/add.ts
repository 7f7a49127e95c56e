import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { InputError, UsageError } from '../../errors.js';
import { notice, printRecord } from '../../io.js';
import type { RegisterResult } from '../../store/devices.js';
import { deviceRecord } from './print.js';
import { checkReadable } from '../shared.js';

export interface AddOptions {
  user: string;
  platform: string;
  /** APNs or FCM token (ios, android). */
  token?: string;
  /** Web Push subscription JSON, or `@file.json` (web). */
  subscription?: string;
  json?: boolean;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('add')
    .description('register a device for a user (a token already registered moves to this user)')
    .requiredOption('--user <id>', 'the user the device belongs to')
    .requiredOption('--platform <platform>', 'ios, android or web')
    .option('--token <token>', 'APNs device token (ios) or FCM registration token (android)')
    .option('--subscription <json|@file>', 'Web Push subscription JSON, or @file.json (web)')
    .option('--json', 'print the device as JSON')
    .addHelpText('after', `
Examples:
  $ notify devices add --user u1 --platform ios --token 740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad
  $ notify devices add --user u1 --platform android --token "dQw4w9WgXcQ:APA91bH..."
  $ notify devices add --user u1 --platform web --subscription @subscription.json`)
    .action(ctx.action(async (deps, opts: AddOptions) => {
      const result = await run(opts, deps);
      if (result.moved) notice(deps.io, `Device ${result.device.id} moved from user ${result.previousUserId} to ${result.device.userId}.`);
      printRecord(deps.io, deviceRecord(result.device), { json: opts.json, jsonValue: result.device });
    }));
}

export async function run(options: AddOptions, deps: Deps): Promise<RegisterResult> {
  if (options.token !== undefined && options.subscription !== undefined) {
    throw new UsageError('give --token (ios, android) or --subscription (web), not both');
  }
  const subscription = options.subscription !== undefined ? readSubscription(options.subscription) : undefined;
  const { normalizeDevice } = await import('./input.js');
  const device = normalizeDevice(options.user, { platform: options.platform, token: options.token, subscription });
  const store = await deps.store();
  await store.users.require(options.user);
  return store.devices.register(device);
}

/** `--subscription` is JSON text, or `@path` to a file holding it. */
function readSubscription(value: string): string {
  if (!value.startsWith('@')) return value;
  const path = value.slice(1);
  checkReadable(path, 'subscription');
  return readFileSync(path, 'utf8');
}
