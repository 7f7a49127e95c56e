import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';

export function register(program: Command, _ctx: Ctx): void {
  program.command('prefs').description('(prefs commands)');
}
