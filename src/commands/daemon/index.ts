import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import * as start from './start.js';
import * as stop from './stop.js';
import * as status from './status.js';
import { describe } from '../catalog.js';

export function register(program: Command, ctx: Ctx): void {
  const daemon = program.command('daemon').description(describe('daemon'));
  for (const verb of [start, stop, status]) verb.register(daemon, ctx);
}
