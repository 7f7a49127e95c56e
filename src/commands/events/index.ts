import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import * as exportEvents from './export.js';

export function register(program: Command, ctx: Ctx): void {
  const events = program.command('events').description('engagement and delivery events for analytics');
  exportEvents.register(events, ctx);
}
