import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import * as list from './list.js';
import * as show from './show.js';
import * as state from './state.js';
import { describe } from '../catalog.js';

export function register(program: Command, ctx: Ctx): void {
  const campaigns = program.command('campaigns').description(describe('campaigns'));
  for (const verb of [list, show, state]) verb.register(campaigns, ctx);
}
