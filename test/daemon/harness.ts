/** Real daemon processes and seeded homes for the dispatch tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readRawConfig, writeRawConfig, setPath, loadConfig } from '../../src/config.js';
import { openStore, type Store } from '../../src/store/index.js';
import { validateTemplate } from '../../src/core/template.js';
import { systemClock } from '../../src/core/time.js';
import { readStatus } from '../../src/daemon/client.js';
import { initHome, tempDir } from '../helpers.js';

type T = { after(fn: () => void | Promise<void>): void };

export const BIN = resolve('bin/notify.js');

/** Sets config keys (dot paths) directly in config.json. */
export function configure(home: string, values: Record<string, unknown>): void {
  const raw = readRawConfig(home);
  for (const [key, value] of Object.entries(values)) setPath(raw, key.split('.'), value);
  writeRawConfig(home, raw);
}

export async function openHomeStore(t: T, home: string): Promise<Store> {
  const config = loadConfig(home);
  const store = await openStore(config.database.startsWith('/') ? config.database : join(home, config.database), systemClock);
  t.after(() => store.close());
  return store;
}

/** A home with `users` users (u000000…) who have an email and phone, and a transactional template `note`. */
export async function seededHome(t: T, users: number, config: Record<string, unknown> = {}): Promise<string> {
  const home = await initHome(t);
  configure(home, { 'daemon.leaseMs': 3000, 'daemon.pollMs': 50, 'server.listen': '127.0.0.1:0', ...config });
  const store = await openStore(join(home, 'notify.db'), systemClock);
  try {
    const batch = [];
    for (let i = 0; i < users; i++) {
      const id = `u${String(i).padStart(6, '0')}`;
      batch.push({ id, name: `User ${i}`, email: `${id}@example.com`, phone: `+1415555${String(i % 10000).padStart(4, '0')}` });
      if (batch.length === 10_000) await store.users.upsertMany(batch.splice(0));
    }
    await store.users.upsertMany(batch);
    const cfg = loadConfig(home);
    await store.templates.create('note', validateTemplate({
      category: 'transactional',
      sms: { body: 'Hi {{ user.name }}: {{ data.text }}' },
      email: { subject: 'Note for {{ user.name }}', text: '{{ data.text }}' },
    }, cfg));
    await store.templates.create('bulk', validateTemplate({ category: 'marketing', email: { subject: 'Sale', text: 'Hi {{ user.name }}' } }, cfg));
  } finally {
    await store.close();
  }
  return home;
}

export interface DaemonProcess {
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/** Starts `notify daemon start` for `home` and waits until its status socket answers. */
export async function startDaemon(t: T, home: string, extraEnv: Record<string, string> = {}, extraArgs: string[] = []): Promise<DaemonProcess> {
  const logFile = join(tempDir(t, 'notify-daemon-log-'), 'daemon.out');
  const fd = openSync(logFile, 'a');
  // The API listens on a free port unless the home says otherwise (NOTIFY_SERVER_LISTEN wins over config).
  const env = { ...process.env, NOTIFY_SERVER_LISTEN: process.env.NOTIFY_SERVER_LISTEN ?? '127.0.0.1:0', ...extraEnv };
  const child = spawn(process.execPath, [BIN, '--home', home, 'daemon', 'start', ...extraArgs], { stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  for (let i = 0; i < 400; i++) {
    if (await readStatus(home, 200)) return { child, logFile, exited };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`daemon did not start:\n${existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''}`);
}

/** Polls `check` until it returns true; fails after `limitMs` (a bound on a hang, not a speed assertion). */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, limitMs = 60_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Delivery ids written by a home's log provider for one provider, in order. */
export function loggedIds(home: string, provider: string): number[] {
  const file = join(home, 'log', `${provider}.jsonl`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { deliveryId: number }).deliveryId);
}

export function statusCounts(store: Store): Record<string, number> {
  const rows = store.db.prepare('SELECT status, count(*) AS c FROM deliveries GROUP BY status').all() as { status: string; c: number }[];
  return Object.fromEntries(rows.map((r) => [r.status, r.c]));
}
