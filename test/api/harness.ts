/** A seeded home with a real daemon and the API server on its thread (as `notify daemon start` runs it), and an HTTP client for it. */
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { systemClock, type Clock } from '../../src/core/time.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/daemon/logger.js';
import { Renderer } from '../../src/daemon/render.js';
import { startApiServer, type ApiServer } from '../../src/daemon/api/server.js';
import { linkDaemon } from '../../src/daemon/api/link.js';
import { startApiThread } from '../../src/daemon/api/thread.js';
import { openStore, type Store } from '../../src/store/index.js';
import type { App, AppScope } from '../../src/store/apps.js';
import { seededHome } from '../daemon/harness.js';

type T = { after(fn: () => void | Promise<void>): void };

export interface ApiEnvOptions {
  /** Seeded users u000000… with email and phone. Default 5. */
  users?: number;
  /** Config keys (dot paths) on top of the test defaults. */
  config?: Record<string, unknown>;
  /** A clock for the daemon and the API; the API then runs on this thread, not its own. */
  clock?: Clock;
  authCacheMs?: number;
}

export interface Delivered { id: number; channel: string; provider: string; createdAt: number; at: number }

export interface ApiEnv {
  home: string;
  store: Store;
  config: Config;
  daemon: Daemon;
  api: ApiServer;
  url: string;
  /** Every `delivered` event so far. */
  delivered: Delivered[];
  /** Creates an app and returns it with its Authorization header. */
  app(options?: { name?: string; scopes?: AppScope[]; rate?: number }): Promise<{ app: App; key: string; secret: string; auth: string }>;
  count(table: string): number;
}

export function basic(key: string, secret: string): string {
  return 'Basic ' + Buffer.from(`${key}:${secret}`).toString('base64');
}

let appCounter = 0;

/** Starts everything; stops the server, then the daemon, then closes the store when the test ends. */
export async function startApi(t: T, options: ApiEnvOptions = {}): Promise<ApiEnv> {
  const cleanups: (() => Promise<void> | void)[] = [];
  // Registered before the home's removal so it runs first.
  t.after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  const home = await seededHome(t, options.users ?? 5, { 'server.listen': '127.0.0.1:0', ...options.config });
  const clock = options.clock ?? systemClock;
  const store = await openStore(join(home, 'notify.db'), clock);
  cleanups.push(() => store.close());
  const config = loadConfig(home);
  const daemon = new Daemon({ home, config, store, clock, logger: silentLogger, renderer: new Renderer(store, config) });
  const delivered: Delivered[] = [];
  daemon.on('delivered', (e: Delivered) => delivered.push(e));
  await daemon.start();
  cleanups.push(() => daemon.stop());
  let api: ApiServer;
  if (options.clock) {
    // A test's own clock reaches the server only on this thread.
    const link = linkDaemon(daemon);
    cleanups.push(() => link.close());
    api = await startApiServer({ config, store, clock, daemon: link, logger: silentLogger, home, authCacheMs: options.authCacheMs });
  } else {
    api = await startApiThread({ config, store, daemon, logger: silentLogger, logLevel: 'silent', home, authCacheMs: options.authCacheMs });
  }
  cleanups.push(() => api.close());
  return {
    home, store, config, daemon, api, url: api.url, delivered,
    async app(o = {}) {
      const { app, secret } = await store.apps.create({ name: o.name ?? `app${++appCounter}`, scopes: o.scopes, ratePerSec: o.rate ?? 100_000 });
      return { app, key: app.key, secret, auth: basic(app.key, secret) };
    },
    count(table) {
      return store.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
    },
  };
}

export interface Response {
  status: number;
  headers: Headers;
  body: any;
}

export interface CallOptions {
  auth?: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is (with `contentType`, default application/json). */
  raw?: string;
  contentType?: string;
}

/** One HTTP request; the body parsed as JSON when it is JSON. */
export async function call(url: string, method: string, path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (options.auth) headers.authorization = options.auth;
  let body: string | undefined;
  if (options.raw !== undefined) {
    body = options.raw;
    headers['content-type'] = options.contentType ?? 'application/json';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(url + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('application/json') && text) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Polls `check` until true; fails after `limitMs` (a bound on a hang, not a speed assertion). */
export async function until(check: () => boolean | Promise<boolean>, what: string, limitMs = 60_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}
