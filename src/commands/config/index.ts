import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import * as get from './get.js';
import * as set from './set.js';
import * as unset from './unset.js';
import * as show from './show.js';
import { describe } from '../catalog.js';

export function register(program: Command, ctx: Ctx): void {
  const config = program.command('config').description(describe('config'));
  for (const verb of [get, set, unset, show]) verb.register(config, ctx);
}
