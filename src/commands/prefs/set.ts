import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { checkCategory, checkChannel, checkSource, PREFERENCE_SOURCES, type Preference } from '../../core/policy.js';
import { UsageError } from '../../errors.js';

export interface SetOptions {
  user: string;
  channel: string;
  optIn?: boolean;
  optOut?: boolean;
  /** A configured category; absent means the whole channel ('*'). */
  category?: string;
  /** Who made the choice. Default cli. */
  source?: string;
  json?: boolean;
}

export interface SetResult {
  preference: Preference;
  /** False when the choice was already stored (nothing written). */
  changed: boolean;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('set')
    .description('record a person\'s opt-in or opt-out for a channel, or one category on it')
    .requiredOption('--user <id>', 'the user')
    .requiredOption('--channel <channel>', 'push, sms or email')
    .option('--opt-in', 'the person wants these notifications')
    .option('--opt-out', 'the person does not want these notifications')
    .option('--category <name>', 'one category (see config "categories"); default: the whole channel')
    .option('--source <source>', `who made the choice: ${PREFERENCE_SOURCES.join(', ')} (default cli)`)
    .option('--json', 'print the stored choice as JSON')
    .addHelpText('after', `
Examples:
  $ notify prefs set --user u1 --channel email --category marketing --opt-out
  $ notify prefs set --user u1 --channel sms --opt-out --source provider
  $ notify prefs set --user u1 --channel push --category social --opt-in --source api`)
    .action(ctx.action(async (deps, opts: SetOptions) => {
      const { preference: p, changed } = await run(opts, deps);
      if (opts.json) {
        deps.io.stdout.write(JSON.stringify({ ...p, changed }, null, 2) + '\n');
        return;
      }
      const what = `${p.userId} ${p.channel} ${p.category === '*' ? '(all categories)' : p.category}`;
      deps.io.stdout.write(`${what}: ${p.optIn ? 'opted in' : 'opted out'}${changed ? ` (source ${p.source})` : ` (unchanged since ${p.updatedAt}, source ${p.source})`}\n`);
    }));
}

export async function run(options: SetOptions, deps: Deps): Promise<SetResult> {
  if (Boolean(options.optIn) === Boolean(options.optOut)) throw new UsageError('give exactly one of --opt-in or --opt-out');
  const config = await deps.config();
  const channel = checkChannel(options.channel);
  const category = checkCategory(options.category ?? '*', Object.keys(config.categories));
  const source = checkSource(options.source ?? 'cli');
  const store = await deps.store();
  await store.users.require(options.user);
  const { changed } = await store.prefs.set([{ userId: options.user, channel, category, optIn: Boolean(options.optIn), source }]);
  const preference = (await store.prefs.get(options.user)).find((p) => p.channel === channel && p.category === category)!;
  return { preference, changed: changed > 0 };
}
