import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { printRecord } from '../../io.js';
import type { App } from '../../store/apps.js';
import { confirmDestructive } from '../shared.js';
import { appJson } from './print.js';

export interface RevokeOptions {
  /** The app's name, id or key. */
  name: string;
  yes?: boolean;
  json?: boolean;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('revoke <name>')
    .description('revoke an app key for good: its requests get 401 (within 5 s in a running daemon)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print the app as JSON')
    .addHelpText('after', '\nExamples:\n  $ notify apps revoke mobile --yes')
    .action(ctx.action(async (deps, name: string, opts: Omit<RevokeOptions, 'name'>) => {
      const app = await run({ name, ...opts }, deps);
      if (!app) {
        deps.io.stdout.write('Nothing revoked.\n');
        return;
      }
      if (opts.json) printRecord(deps.io, {}, { json: true, jsonValue: appJson(app) });
      else deps.io.stdout.write(`Revoked app ${app.name} (${app.key}) at ${app.revokedAt}\n`);
    }));
}

/** Returns undefined when the person said no at the prompt. */
export async function run(options: RevokeOptions, deps: Deps): Promise<App | undefined> {
  const store = await deps.store();
  const app = await store.apps.require(options.name);
  if (app.revokedAt) return app;
  if (!(await confirmDestructive(deps, options.yes, `Revoke app ${app.name}? Clients using its key will be refused`))) return undefined;
  return store.apps.revoke(app.id);
}
