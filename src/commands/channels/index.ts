import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import * as webpushKeys from './webpush-keys.js';
import * as test from './test.js';
import { describe } from '../catalog.js';

export function register(program: Command, ctx: Ctx): void {
  const channels = program.command('channels').description(describe('channels'));
  for (const verb of [webpushKeys, test]) verb.register(channels, ctx);
}
