import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { effectivePreferences, type EffectivePreference } from '../../core/policy.js';
import { printRows, type Column } from '../../io.js';
import type { PreferenceHistoryEntry } from '../../store/prefs.js';

export interface ShowOptions {
  user: string;
  /** Also show the consent trail. */
  history?: boolean;
  json?: boolean;
}

export interface ShowResult {
  userId: string;
  /** Every channel × configured category, with where the answer came from. */
  preferences: EffectivePreference[];
  /** With `history`: every change, oldest first. */
  history?: PreferenceHistoryEntry[];
}

const ORIGIN_TEXT = { category: 'category choice', channel: 'channel choice', default: 'default' } as const;

const EFFECTIVE_COLUMNS: Column<EffectivePreference>[] = [
  { header: 'CHANNEL', value: (p) => p.channel },
  { header: 'CATEGORY', value: (p) => p.category },
  { header: 'OPT-IN', value: (p) => (p.optIn ? 'yes' : 'no') },
  { header: 'FROM', value: (p) => ORIGIN_TEXT[p.origin] },
  { header: 'SOURCE', value: (p) => p.source },
  { header: 'UPDATED', value: (p) => p.updatedAt },
];

const HISTORY_COLUMNS: Column<PreferenceHistoryEntry>[] = [
  { header: 'AT', value: (h) => h.at },
  { header: 'CHANNEL', value: (h) => h.channel },
  { header: 'CATEGORY', value: (h) => (h.category === '*' ? '* (all)' : h.category) },
  { header: 'OPT-IN', value: (h) => (h.optIn ? 'yes' : 'no') },
  { header: 'SOURCE', value: (h) => h.source },
];

export function register(parent: Command, ctx: Ctx): void {
  parent.command('show')
    .description('what a person receives on each channel and category, and why')
    .requiredOption('--user <id>', 'the user')
    .option('--history', 'also show the consent trail: every change with its time and source')
    .option('--json', 'print as JSON')
    .addHelpText('after', `
FROM says where each answer came from: a choice for that category, a choice for the whole channel, or
the default (transactional categories in; marketing per defaults.marketingOptIn).
Piped, the history rows follow the preference rows after an empty line; use --json for scripts.

Examples:
  $ notify prefs show --user u1
  $ notify prefs show --user u1 --history
  $ notify prefs show --user u1 --json | jq '.preferences[] | select(.optIn == false)'`)
    .action(ctx.action(async (deps, opts: ShowOptions) => {
      const result = await run(opts, deps);
      const { io } = deps;
      if (opts.json) {
        io.stdout.write(JSON.stringify(result, null, 2) + '\n');
        return;
      }
      await printRows(io, result.preferences, EFFECTIVE_COLUMNS);
      if (result.history) {
        io.stdout.write(io.isTTY ? '\nConsent history:\n' : '\n');
        await printRows(io, result.history, HISTORY_COLUMNS, { empty: 'No recorded changes: every answer above is a default.' });
      }
    }));
}

export async function run(options: ShowOptions, deps: Deps): Promise<ShowResult> {
  const config = await deps.config();
  const store = await deps.store();
  await store.users.require(options.user);
  const rows = await store.prefs.get(options.user);
  const result: ShowResult = { userId: options.user, preferences: effectivePreferences(rows, config) };
  if (options.history) result.history = await store.prefs.history(options.user);
  return result;
}
