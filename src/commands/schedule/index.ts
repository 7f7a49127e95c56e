import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import * as add from './add.js';
import * as list from './list.js';
import * as show from './show.js';
import * as state from './state.js';
import * as remove from './remove.js';
import * as runNow from './run-now.js';
import { describe } from '../catalog.js';

export function register(program: Command, ctx: Ctx): void {
  const schedule = program.command('schedule').description(describe('schedule'));
  for (const verb of [add, list, show, state, remove, runNow]) verb.register(schedule, ctx);
}
