import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import * as backup from './backup.js';
import { describe } from '../catalog.js';

/** `notify db`: the database itself. One file per verb; engines other than SQLite add theirs here. */
export function register(program: Command, ctx: Ctx): void {
  const db = program.command('db').description(describe('db'));
  for (const verb of [backup]) verb.register(db, ctx);
}
