import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import * as webpushKeys from './webpush-keys.js';
import * as test from './test.js';

export function register(program: Command, ctx: Ctx): void {
  const channels = program.command('channels').description('provider channels: keys and test sends');
  for (const verb of [webpushKeys, test]) verb.register(channels, ctx);
}
