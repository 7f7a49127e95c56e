/** `notify daemon start`: runs the dispatch daemon in the foreground (for systemd), or detached. */
import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { ConfigError, NotifyError } from '../../errors.js';
import { PROVIDERS } from '../../core/types.js';
import { logPath, pidPath, readStatus } from '../../daemon/client.js';
import { selfCommand } from '../../sea.js';

export interface StartOptions {
  detach?: boolean;
  /** pino level: debug, info, warn, error. Default info. */
  logLevel?: string;
}

export interface StartResult {
  pid: number;
  logFile?: string;
}

const EXAMPLES = `
Runs in the foreground and logs JSON lines to stdout (for systemd or a terminal). The first SIGTERM or
SIGINT stops claiming and drains in-flight sends; signals in the next 3 seconds are ignored; one after
that forces an exit.

Examples:
  $ notify daemon start
  $ notify daemon start --detach        # background; pid in <home>/daemon.pid, log in <home>/daemon.log
  $ notify daemon start --log-level debug`;

export function register(parent: Command, ctx: Ctx): void {
  parent.command('start')
    .description('run the dispatch daemon')
    .option('--detach', 'run in the background with a pid file and a log file in the home')
    .option('--log-level <level>', 'debug, info, warn or error (default info)')
    .addHelpText('after', EXAMPLES)
    .action(ctx.action(async (deps, opts: StartOptions) => {
      if (opts.detach) {
        const r = await detach(opts, deps);
        deps.io.stdout.write(`Started daemon (pid ${r.pid}); log: ${r.logFile}\n`);
        return;
      }
      const controller = new AbortController();
      let firstSignalAt = 0;
      const onSignal = (sig: NodeJS.Signals) => {
        const now = Date.now();
        if (!firstSignalAt) {
          firstSignalAt = now;
          controller.abort(sig);
        } else if (now - firstSignalAt > 3000) {
          deps.io.stderr.write(`${sig} again: forcing exit\n`);
          process.exit(1);
        }
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      try {
        await run(opts, deps, controller.signal);
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    }));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in the pid file when that process is alive. */
export function runningPid(home: string): number | undefined {
  const file = pidPath(home);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/** Runs until `signal` aborts; then drains and returns. */
export async function run(options: StartOptions, deps: Deps, signal: AbortSignal): Promise<StartResult> {
  const { home } = deps;
  const config = await deps.config();
  const existing = runningPid(home);
  if (existing && existing !== process.pid) throw new ConfigError(`a daemon is already running for ${home} (pid ${existing}): stop it with "notify daemon stop"`);
  const store = await deps.store();
  const [{ Daemon }, { Renderer }, { StatusServer }, { createLogger }] = await Promise.all([
    import('../../daemon/daemon.js'), import('../../daemon/render.js'), import('../../daemon/status-server.js'), import('../../daemon/logger.js'),
  ]);
  const logger = createLogger({ level: options.logLevel });
  // Before the API and checkpoint threads start: their heaps take the flag too.
  const heap = await import('../../daemon/heap.js');
  heap.tuneHeap();
  const young = new heap.YoungGenerationCap();
  const daemon = new Daemon({ home, config, store, clock: deps.clock, logger, renderer: new Renderer(store, config) });
  const status = new StatusServer(home, daemon);
  const onLog = PROVIDERS.filter((p) => config.channels[p].provider === 'log');
  const { startApiThread } = await import('../../daemon/api/thread.js');
  let api: Awaited<ReturnType<typeof startApiThread>> | undefined;
  // A sender thread failing stops the daemon (its sends would only fail as retryable until a restart),
  // and so does the API thread: the command then fails with exit code 1, and a supervisor restarts it.
  const failed = new AbortController();
  const stop = AbortSignal.any([signal, failed.signal]);
  let failure: string | undefined;
  const fail = (what: string) => (err: Error) => {
    failure ??= `${what} failed (${err.message})`;
    failed.abort(`${what} failed`);
  };
  daemon.once('failed', fail('a sender thread'));
  try {
    await daemon.start();
    // The growth factor it holds is one flag for the whole process: with sender threads, whose SDKs
    // allocate most, it held their young generations small too and they spent a quarter of their time in
    // scavenges. Their work is off the main thread then, and so is most of its allocation.
    if (!daemon.senderThreads.length) young.start();
    api = await startApiThread({
      config, store, daemon, logger, home, logLevel: options.logLevel,
      onFailure: fail('the API thread'),
    });
    daemon.apiUrl = api.url;
    // The status socket answers only once lanes exist and the API listens: `daemon start --detach`,
    // `daemon status` and tests wait for it.
    await status.start();
    writeFileSync(pidPath(home), `${process.pid}\n`, { mode: 0o600 });
    logger.info({ owner: daemon.owner, home, database: store.path }, 'daemon started');
    if (onLog.length) {
      logger.warn({ providers: onLog, directory: `${home}/log` }, `channels on the log provider write deliveries to files instead of sending: ${onLog.join(', ')}`);
    }
    if (!stop.aborted) await new Promise<void>((resolve) => stop.addEventListener('abort', () => resolve(), { once: true }));
    logger.info({ signal: String(stop.reason ?? '') }, 'stopping: no new claims; draining in-flight sends');
  } finally {
    await api?.close().catch((err: Error) => logger.error({ err: err.message }, 'closing the API failed'));
    await daemon.stop();
    await status.close().catch(() => undefined);
    young.stop();
    try {
      if (runningPid(home) === process.pid) unlinkSync(pidPath(home));
    } catch {
      // Gone already.
    }
    logger.info({}, 'daemon stopped');
  }
  if (failure) throw new NotifyError(`${failure}: the daemon stopped after writing its results; its supervisor restarts it (systemd: Restart=on-failure)`);
  return { pid: process.pid };
}

/** Starts `notify daemon start` in the background and waits until it answers on its socket. */
export async function detach(options: StartOptions, deps: Deps): Promise<StartResult> {
  const { home } = deps;
  await deps.config();
  const existing = runningPid(home);
  if (existing) throw new ConfigError(`a daemon is already running for ${home} (pid ${existing}): stop it with "notify daemon stop"`);
  // The single executable starts itself; the npm install runs bin/notify.js with this node.
  const [command, ...self] = selfCommand() ?? [process.execPath, fileURLToPath(new URL('../../../../bin/notify.js', import.meta.url))];
  const log = openSync(logPath(home), 'a', 0o600);
  const args = [...self, '--home', home, 'daemon', 'start', ...(options.logLevel ? ['--log-level', options.logLevel] : [])];
  const child = spawn(command!, args, { detached: true, stdio: ['ignore', log, log], env: deps.io.env });
  closeSync(log);
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? 1));
  child.unref();
  for (let i = 0; i < 200; i++) {
    if (exited !== null) throw new ConfigError(`the daemon exited at start (code ${exited}): see ${logPath(home)}`);
    if (await readStatus(home, 200)) return { pid: child.pid!, logFile: logPath(home) };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new ConfigError(`the daemon did not answer within 10 s: see ${logPath(home)}`);
}
