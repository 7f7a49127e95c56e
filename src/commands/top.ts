/** `notify top`: the live queue view, refreshed about once a second, from the daemon's own status. */
import type { Command } from 'commander';
import type { Ctx } from '../cli.js';
import type { Deps } from '../deps.js';
import { NotifyError } from '../errors.js';
import { formatStatus } from './daemon/view.js';
import { describe } from './catalog.js';

export interface TopOptions {
  /** Refresh interval in ms. Default 1000. */
  interval?: number;
}

export function register(program: Command, ctx: Ctx): void {
  program.command('top')
    .description(describe('top'))
    .addHelpText('after', '\nPress q or Ctrl-C to leave.\n\nExamples:\n  $ notify top\n  $ notify top | cat      # one plain snapshot')
    .action(ctx.action(async (deps) => runTop({}, deps)));
}

export async function runTop(options: TopOptions, deps: Deps): Promise<void> {
  const { readStatus } = await import('../daemon/client.js');
  const { io } = deps;
  const first = await readStatus(deps.home);
  if (!first) throw new NotifyError(`no daemon is running for ${deps.home}: start one with "notify daemon start"`);
  if (!io.isTTY) {
    io.stdout.write(formatStatus(first));
    return;
  }
  const stdin = io.stdin as NodeJS.ReadStream;
  io.stdout.write('\x1b[?1049h\x1b[?25l');
  let stop!: () => void;
  const done = new Promise<void>((resolve) => (stop = resolve));
  const onKey = (key: Buffer) => {
    const k = key.toString();
    if (k === 'q' || k === '\u0003' || k === '\u001b') stop();
  };
  if (io.inIsTTY && typeof stdin.setRawMode === 'function') {
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onKey);
  }
  process.once('SIGINT', stop);
  try {
    let status = first;
    for (;;) {
      io.stdout.write('\x1b[H\x1b[2J' + formatStatus(status, io.stdout.columns ?? 100) + '\nq to quit\n');
      const tick = new Promise<'tick'>((r) => setTimeout(() => r('tick'), options.interval ?? 1000));
      if ((await Promise.race([tick, done.then(() => 'stop' as const)])) === 'stop') break;
      const next = await readStatus(deps.home);
      if (!next) break;
      status = next;
    }
  } finally {
    process.off('SIGINT', stop);
    if (io.inIsTTY && typeof stdin.setRawMode === 'function') {
      stdin.off('data', onKey);
      stdin.setRawMode(false);
      stdin.pause();
    }
    io.stdout.write('\x1b[?25h\x1b[?1049l');
  }
}
