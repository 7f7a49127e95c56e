/**
 * Builds the commander program and maps errors to exit codes: 0 ok, 1 error, 2 usage.
 * This is the only place that decides an exit code; nothing calls process.exit.
 */
import { Command, CommanderError } from 'commander';
import type { Deps } from './deps.js';
import { NotifyError } from './errors.js';
import { processIO, type IO } from './io.js';
import { systemClock, type Clock } from './core/time.js';
import { COMMANDS, type CommandName } from './commands/catalog.js';

type Register = (program: Command, ctx: Ctx) => void;

/** Each top-level command's module, imported only when a command line names it. */
const LOADERS: Record<CommandName, () => Promise<{ register: Register }>> = {
  demo: () => import('./commands/demo.js'),
  init: () => import('./commands/init.js'),
  config: () => import('./commands/config/index.js'),
  users: () => import('./commands/users/index.js'),
  devices: () => import('./commands/devices/index.js'),
  prefs: () => import('./commands/prefs/index.js'),
  templates: () => import('./commands/templates/index.js'),
  segments: () => import('./commands/segments/index.js'),
  send: () => import('./commands/send.js'),
  campaigns: () => import('./commands/campaigns/index.js'),
  schedule: () => import('./commands/schedule/index.js'),
  daemon: () => import('./commands/daemon/index.js'),
  top: () => import('./commands/top.js'),
  log: () => import('./commands/log.js'),
  stats: () => import('./commands/stats.js'),
  events: () => import('./commands/events/index.js'),
  apps: () => import('./commands/apps/index.js'),
  channels: () => import('./commands/channels/index.js'),
  doctor: () => import('./commands/doctor.js'),
  db: () => import('./commands/db/index.js'),
};

/** The top-level command a command line names (after global options, and after `help`). */
export function commandNamed(argv: string[]): CommandName | undefined {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const a = argv[i]!;
    if (a === '--home') i++;
    else if (!a.startsWith('-')) words.push(a);
  }
  const name = words[0] === 'help' ? words[1] : words[0];
  return name !== undefined && name in COMMANDS ? (name as CommandName) : undefined;
}

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

/**
 * The commander program with `only` fully loaded (every command when undefined): the others are
 * stubs with their description.
 */
export async function buildProgram(ctx: Ctx, io: IO, only?: CommandName | null): Promise<Command> {
  const names = only === undefined ? (Object.keys(COMMANDS) as CommandName[]) : only === null ? [] : [only];
  const modules = new Map<CommandName, { register: Register }>();
  await Promise.all(names.map(async (name) => modules.set(name, await LOADERS[name]())));
  const program = new Command('notify')
    .description('Self-hosted multi-channel notifications: users, templates, segments, sends and the dispatch daemon.')
    .option('--home <dir>', 'home directory (default: $NOTIFY_HOME or ~/.notify)')
    .option('--debug', 'show stack traces on errors')
    .addHelpText('after', EXAMPLES)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // One line, its fix included: commander puts its suggestion on a line of its own.
      outputError: (s, write) => write(s.replace(/\n\(Did you mean (.+)\?\)\n?$/, ' (did you mean $1?)\n')),
    })
    .exitOverride()
    .showSuggestionAfterError(true);
  program.helpCommand(true);
  for (const name of Object.keys(COMMANDS) as CommandName[]) {
    const loaded = modules.get(name);
    // Commands not named on this line stay a name and a description, for help and suggestions.
    if (loaded) loaded.register(program, ctx);
    else program.command(name).description(COMMANDS[name]);
  }
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
      // Loaded here, not at the top: `notify --help` never needs them.
      const [{ createDeps }, { resolveHome }] = await Promise.all([import('./deps.js'), import('./config-file.js')]);
      deps = createDeps({ io, clock, home: resolveHome(opts.home, io.env), debug: Boolean(opts.debug) });
      await fn(deps, ...args);
    },
  };
  program = await buildProgram(ctx, io, commandNamed(argv) ?? null);
  const debug = argv.includes('--debug');
  if (versionRequested(argv)) {
    (await import('./version.js')).printVersion((s) => io.stdout.write(s));
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (String((err as { code?: unknown })?.code ?? '').startsWith('SQLITE_')) err = (await import('./store/errors.js')).translateSqliteError(err);
    return reportError(err, io, debug);
  } finally {
    await deps?.close().catch(() => undefined);
  }
}

/**
 * `notify --version` (or `-V`) before any command. Not a commander option: commander reads root
 * options anywhere on the line, and `templates show NAME --version 2` must reach the subcommand.
 */
export function versionRequested(argv: string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--home') i++;
    else if (a === '--debug' || a.startsWith('--home=')) continue;
    else return a === '--version' || a === '-V';
  }
  return false;
}

function reportError(err: unknown, io: IO, debug: boolean): number {
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
