import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import * as create from './create.js';
import * as update from './update.js';
import * as show from './show.js';
import * as list from './list.js';
import * as versions from './versions.js';
import * as remove from './delete.js';
import * as preview from './preview.js';
import { describe } from '../catalog.js';

export function register(program: Command, ctx: Ctx): void {
  const templates = program.command('templates').description(describe('templates'));
  for (const verb of [create, update, show, list, versions, remove, preview]) verb.register(templates, ctx);
}
