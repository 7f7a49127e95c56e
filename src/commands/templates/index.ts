import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';

export function register(program: Command, _ctx: Ctx): void {
  program.command('templates').description('(templates commands)');
}
