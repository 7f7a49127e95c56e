import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import * as exportEvents from './export.js';
import { describe } from '../catalog.js';

export function register(program: Command, ctx: Ctx): void {
  const events = program.command('events').description(describe('events'));
  exportEvents.register(events, ctx);
}
