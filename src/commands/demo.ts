/**
 * `notify demo`: the whole product on the embedded defaults — SQLite and the `log` providers, no
 * credentials. Seeds sample data, starts the daemon in-process, sends a campaign and a few real-time
 * notifications, shows the live view until the outbox drains, and says where the deliveries went.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { Ctx } from '../cli.js';
import type { Deps } from '../deps.js';
import { configPath } from '../config-file.js';
import { ConfigError } from '../errors.js';
import { PROVIDERS } from '../core/types.js';
import { notice } from '../io.js';
import { formatStatus } from './daemon/view.js';
import { describe } from './catalog.js';

export interface DemoOptions {
  /** Sample users. Default 200. */
  users?: number;
  json?: boolean;
}

export interface DemoResult {
  home: string;
  seeded: { users: number; devices: number; templates: string[] };
  notifications: { id: string; template: string; deduplicated: boolean }[];
  deliveries: Record<string, number>;
  skipped: Record<string, number>;
  files: string[];
  elapsedMs: number;
}

export function register(program: Command, ctx: Ctx): void {
  program.command('demo')
    .description(describe('demo'))
    .option('--users <n>', 'sample users to seed (default 200)', Number)
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', `
Creates the home if it does not exist (notify init --yes), then seeds, sends and drains. Safe to run
again. It refuses a home whose channels use real providers.

Examples:
  $ npx notify demo
  $ notify --home /tmp/notify-demo demo --users 2000`)
    .action(ctx.action(async (deps, opts: DemoOptions) => {
      const r = await run(opts, deps);
      if (opts.json) return void deps.io.stdout.write(JSON.stringify(r, null, 2) + '\n');
      const { io } = deps;
      const total = Object.values(r.deliveries).reduce((a, b) => a + b, 0);
      io.stdout.write(`\nnotify demo: ${r.seeded.users} users, ${r.notifications.length} notifications, ${total} deliveries in ${(r.elapsedMs / 1000).toFixed(1)} s\n`);
      io.stdout.write(`  deliveries: ${Object.entries(r.deliveries).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
      if (Object.keys(r.skipped).length) io.stdout.write(`  skipped:    ${Object.entries(r.skipped).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
      const dup = r.notifications.filter((n) => n.deduplicated).length;
      if (dup) io.stdout.write(`  ${dup} repeated event id${dup === 1 ? ' was' : 's were'} deduplicated (nothing sent twice)\n`);
      io.stdout.write(`\nThe log provider wrote each delivery as a JSON line to:\n${r.files.map((f) => `  ${f}`).join('\n')}\n`);
      const home = deps.home;
      io.stdout.write(`\nTry next:\n  notify --home ${home} log --limit 10\n  notify --home ${home} templates preview promo --user demo-003\n  notify --home ${home} send --template promo --segment korea --data product=tea --data discount=15 --dry-run\n  notify --home ${home} daemon start      # then, in another terminal: notify --home ${home} top\n`);
    }));
}

export async function run(options: DemoOptions, deps: Deps): Promise<DemoResult> {
  const started = Date.now();
  const { home, io } = deps;
  if (!existsSync(configPath(home))) {
    const { run: init } = await import('./init.js');
    await init({ yes: true }, deps);
    notice(io, `Created a notify home in ${home}`);
  }
  const config = await deps.config();
  const real = PROVIDERS.filter((p) => config.channels[p].provider !== 'log');
  if (real.length) throw new ConfigError(`the demo only sends through the log provider, but ${real.join(', ')} use real providers here: run it on a fresh home (notify --home /tmp/notify-demo demo)`);
  const store = await deps.store();
  const [{ seedDemo }, { submit }, { readStatus, wakeDaemon }, { logFile }] = await Promise.all([
    import('../demo.js'), import('../submit.js'), import('../daemon/client.js'), import('../channels/log.js'),
  ]);
  const seeded = await seedDemo(store, config, options.users ?? 200);
  notice(io, `Seeded ${seeded.users} users, ${seeded.devices} new devices, templates ${seeded.templates.join(', ')}`);

  // A daemon already running for this home does the sending; otherwise one runs in this process.
  let stopDaemon: (() => Promise<void>) | undefined;
  if (!(await readStatus(home, 500))) {
    const [{ Daemon }, { Renderer }, { StatusServer }, { silentLogger }] = await Promise.all([
      import('../daemon/daemon.js'), import('../daemon/render.js'), import('../daemon/status-server.js'), import('../daemon/logger.js'),
    ]);
    const daemon = new Daemon({ home, config, store, clock: deps.clock, logger: silentLogger, renderer: new Renderer(store, config) });
    const status = new StatusServer(home, daemon);
    await status.start();
    await daemon.start();
    stopDaemon = async () => {
      await daemon.stop();
      await status.close();
    };
  }
  try {
    const notifications: DemoResult['notifications'] = [];
    const campaign = await submit({ template: 'promo', segment: 'all', data: { product: 'green tea', discount: 20 }, source: 'cli' }, store, config, deps.clock);
    notifications.push({ id: campaign.notification.id, template: 'promo', deduplicated: false });
    const stamp = Date.now().toString(36);
    for (const userId of ['demo-001', 'demo-002', 'demo-003', 'demo-002']) {
      const r = await submit({ template: 'welcome', users: [userId], data: { code: String(1000 + notifications.length) }, eventId: `demo-welcome-${stamp}-${userId}`, source: 'cli' }, store, config, deps.clock);
      notifications.push({ id: r.notification.id, template: 'welcome', deduplicated: r.deduplicated });
    }
    await wakeDaemon(home);
    const ids = [...new Set(notifications.map((n) => n.id))];
    if (io.isTTY) io.stdout.write('\x1b[?25l');
    for (;;) {
      let pending = 0;
      for (const id of ids) pending += await store.notifications.pending(id);
      const status = await readStatus(home, 1000);
      if (io.isTTY && status) io.stdout.write('\x1b[H\x1b[2J' + formatStatus(status, io.stdout.columns ?? 100) + `\npending deliveries: ${pending}\n`);
      if (pending === 0) break;
      await new Promise((r) => setTimeout(r, io.isTTY ? 500 : 100));
    }
    if (io.isTTY) io.stdout.write('\x1b[?25h');
    const deliveries: Record<string, number> = {};
    const skipped: Record<string, number> = {};
    for (const id of ids) {
      const counts = store.notifications.deliveryCounts(id);
      for (const byStatus of Object.values(counts.deliveries ?? {})) {
        for (const [status, n] of Object.entries(byStatus)) if (status !== 'skipped') deliveries[status] = (deliveries[status] ?? 0) + n;
      }
      for (const [reason, n] of Object.entries(counts.skipped ?? {})) skipped[reason] = (skipped[reason] ?? 0) + (n ?? 0);
    }
    const files = PROVIDERS.map((p) => logFile(home, p)).filter((f) => existsSync(f));
    return { home, seeded, notifications, deliveries, skipped, files, elapsedMs: Date.now() - started };
  } finally {
    await stopDaemon?.();
  }
}
