import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { notice, printRecord } from '../../io.js';
import type { AppWithSecret } from '../../store/apps.js';
import { confirmDestructive } from '../shared.js';
import { appJson, secretRecord } from './print.js';

export interface RotateOptions {
  /** The app's name, id or key. */
  name: string;
  yes?: boolean;
  json?: boolean;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('rotate <name>')
    .description('give an app a new secret (the key stays; the old secret stops working; printed once)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print the key and new secret as JSON')
    .addHelpText('after', `
The old secret is refused at once by a daemon that has not checked it in the last 5 seconds, and within
5 seconds by one that has.

Examples:
  $ notify apps rotate checkout --yes --json`)
    .action(ctx.action(async (deps, name: string, opts: Omit<RotateOptions, 'name'>) => {
      const result = await run({ name, ...opts }, deps);
      if (!result) {
        deps.io.stdout.write('Nothing rotated.\n');
        return;
      }
      printRecord(deps.io, secretRecord(result.app, result.secret), { json: opts.json, jsonValue: { ...appJson(result.app), secret: result.secret } });
      notice(deps.io, 'The new secret is shown only this once: store it now.');
    }));
}

/** Returns undefined when the person said no at the prompt. */
export async function run(options: RotateOptions, deps: Deps): Promise<AppWithSecret | undefined> {
  const store = await deps.store();
  const app = await store.apps.require(options.name);
  if (!app.revokedAt && !(await confirmDestructive(deps, options.yes, `Rotate the secret of app ${app.name}? Clients using the old one will be refused`))) return undefined;
  return store.apps.rotate(app.id);
}
