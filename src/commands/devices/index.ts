import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import * as add from './add.js';
import * as list from './list.js';
import * as remove from './remove.js';
import * as importDevices from './import.js';
import { describe } from '../catalog.js';

const HELP = `
Platforms:
  ios       APNs device token (64 hex characters)
  android   FCM registration token
  web       Web Push subscription JSON: {"endpoint": "https://...", "keys": {"p256dh": "...", "auth": "..."}}

A token registered again (for another user) moves to that user and is active again. Removed devices are
deactivated, not deleted: "devices list --inactive" shows them with the reason and time.

Examples:
  $ notify devices add --user u1 --platform ios --token 3f1c...9a2b
  $ notify devices add --user u1 --platform web --subscription @sub.json
  $ notify devices list --user u1 --inactive`;

export function register(program: Command, ctx: Ctx): void {
  const devices = program.command('devices')
    .description(describe('devices'))
    .addHelpText('after', HELP);
  for (const verb of [add, list, remove, importDevices]) verb.register(devices, ctx);
}
