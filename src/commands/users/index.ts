import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import * as add from './add.js';
import * as show from './show.js';
import * as list from './list.js';
import * as update from './update.js';
import * as remove from './remove.js';
import * as importUsers from './import.js';
import { describe } from '../catalog.js';

export function register(program: Command, ctx: Ctx): void {
  const users = program.command('users').description(describe('users'));
  for (const verb of [add, show, list, update, remove, importUsers]) verb.register(users, ctx);
}
