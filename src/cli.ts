/**
 * Builds the commander program and maps errors to exit codes: 0 ok, 1 error, 2 usage.
 * This is the only place that decides an exit code; nothing calls process.exit.
 */
import { Command, CommanderError } from 'commander';
import { resolveHome } from './config-file.js';
import { createDeps, type Deps } from './deps.js';
import { NotifyError } from './errors.js';
import { translateSqliteError } from './store/errors.js';
import { processIO, type IO } from './io.js';
import { systemClock, type Clock } from './core/time.js';
import { register as registerInit } from './commands/init.js';
import { register as registerConfig } from './commands/config/index.js';
import { register as registerUsers } from './commands/users/index.js';
import { register as registerDevices } from './commands/devices/index.js';
import { register as registerPrefs } from './commands/prefs/index.js';
import { register as registerTemplates } from './commands/templates/index.js';
import { register as registerSegments } from './commands/segments/index.js';
import { register as registerSend } from './commands/send.js';
import { register as registerApps } from './commands/apps/index.js';
import { register as registerDaemon } from './commands/daemon/index.js';
import { register as registerTop } from './commands/top.js';
import { register as registerLog } from './commands/log.js';
import { register as registerDemo } from './commands/demo.js';
import { register as registerChannels } from './commands/channels/index.js';
import { register as registerDoctor } from './commands/doctor.js';
import { register as registerCampaigns } from './commands/campaigns/index.js';
import { register as registerSchedule } from './commands/schedule/index.js';
import { register as registerStats } from './commands/stats.js';
import { register as registerEvents } from './commands/events/index.js';
import { register as registerDb } from './commands/db/index.js';
import { printVersion, versionRequested } from './version.js';

/** What every verb's register() receives: a way to turn its handler into a commander action. */
export interface Ctx {
  action<A extends unknown[]>(fn: (deps: Deps, ...args: A) => Promise<void>): (...args: A) => Promise<void>;
}

export interface MainOptions {
  io?: IO;
  clock?: Clock;
}

const EXAMPLES = `
Examples:
  $ notify demo                      # everything end to end, no credentials needed
  $ notify init --yes
  $ notify users import users.csv
  $ notify templates create --file promo.yaml
  $ notify segments create korea --where "country = 'KR' and has email"
  $ notify send --template promo --segment korea
  $ notify daemon start

  $ notify --version                 # version, commit and the Node.js inside

Environment:
  NOTIFY_HOME   home directory (default ~/.notify); --home wins
  NO_COLOR      turn colour off`;

export function buildProgram(ctx: Ctx, io: IO): Command {
  const program = new Command('notify')
    .description('Self-hosted multi-channel notifications: users, templates, segments, sends and the dispatch daemon.')
    .option('--home <dir>', 'home directory (default: $NOTIFY_HOME or ~/.notify)')
    .option('--debug', 'show stack traces on errors')
    .addHelpText('after', EXAMPLES)
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    .showSuggestionAfterError(true);
  program.helpCommand(true);
  registerInit(program, ctx);
  registerConfig(program, ctx);
  registerUsers(program, ctx);
  registerDevices(program, ctx);
  registerPrefs(program, ctx);
  registerTemplates(program, ctx);
  registerSegments(program, ctx);
  registerSend(program, ctx);
  registerApps(program, ctx);
  registerDaemon(program, ctx);
  registerTop(program, ctx);
  registerLog(program, ctx);
  registerDemo(program, ctx);
  registerChannels(program, ctx);
  registerDoctor(program, ctx);
  registerCampaigns(program, ctx);
  registerSchedule(program, ctx);
  registerStats(program, ctx);
  registerEvents(program, ctx);
  registerDb(program, ctx);
  return program;
}

export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const io = options.io ?? processIO();
  const clock = options.clock ?? systemClock;
  let deps: Deps | undefined;
  let program: Command | undefined;
  const ctx: Ctx = {
    action: (fn) => async (...args) => {
      const opts = program!.opts<{ home?: string; debug?: boolean }>();
      deps = createDeps({ io, clock, home: resolveHome(opts.home, io.env), debug: Boolean(opts.debug) });
      await fn(deps, ...args);
    },
  };
  program = buildProgram(ctx, io);
  const debug = argv.includes('--debug');
  if (versionRequested(argv)) {
    printVersion((s) => io.stdout.write(s));
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    return reportError(err, io, debug);
  } finally {
    await deps?.close().catch(() => undefined);
  }
}

function reportError(err: unknown, io: IO, debug: boolean): number {
  if (String((err as { code?: unknown })?.code ?? '').startsWith('SQLITE_')) err = translateSqliteError(err);
  if (err instanceof CommanderError) {
    // Commander has already printed its one line (or the help / version text).
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    if (err.code === 'commander.executeSubCommandAsync') return err.exitCode;
    return 2;
  }
  if (err instanceof NotifyError) {
    io.stderr.write(`error: ${err.message}\n`);
    if (debug && err.stack) io.stderr.write(err.stack + '\n');
    return err.exitCode;
  }
  const e = err as Error;
  io.stderr.write(`error: ${e?.message ?? String(err)}${debug ? '' : ' (run with --debug for details)'}\n`);
  if (debug && e?.stack) io.stderr.write(e.stack + '\n');
  return 1;
}
