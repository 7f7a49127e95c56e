/**
 * The daemon's HTTP API (fastify): the internal API services and app sign-up flows use to send
 * notifications and hand over contacts, devices, preferences and engagement.
 *
 * Config (`server.*`):
 * - `listen` (default 127.0.0.1:7878): host:port; port 0 picks a free one. /healthz and /metrics need no
 *   app key: keep the address private, or put a proxy in front that only forwards /v1.
 * - `tlsCert` / `tlsKey`: PEM files (relative to the home) to serve HTTPS; both or neither.
 * - `bodyLimit` (default 64 KB): larger bodies get 413 before they are parsed.
 * - `publicUrl`: the address the outside world uses, for links; not used to listen.
 *
 * Routes: /v1/notifications (notifications.ts), /v1/users (users.ts, devices.ts, preferences.ts),
 * /v1/events (events.ts), /healthz and /metrics (health.ts). Every /v1 route needs HTTP Basic auth with an
 * app key and secret (auth.ts). Every body is validated by its JSON schema; unknown fields are refused.
 * Every error is `{ "error": { "code", "message", "field"? } }` (errors.ts). Nothing is logged with
 * credentials: fastify's logger is off and our request log names the app, never the header.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { isAbsolute, join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { parseListen, type Config } from '../../config.js';
import type { Clock } from '../../core/time.js';
import { ConfigError } from '../../errors.js';
import type { Store } from '../../store/index.js';
import type { Logger } from '../logger.js';
import { Authenticator } from './auth.js';
import { ApiError, errorHandler } from './errors.js';
import { registerDeviceRoutes } from './devices.js';
import { registerEventRoutes } from './events.js';
import { registerHealthRoutes } from './health.js';
import type { DaemonLink } from './link.js';
import { RequestMetrics } from './metrics.js';
import { registerNotificationRoutes } from './notifications.js';
import { registerPreferenceRoutes } from './preferences.js';
import { registerUserRoutes } from './users.js';
import { registerTrackingRoutes } from './tracking.js';

export interface ApiServerOptions {
  config: Config;
  store: Store;
  clock: Clock;
  /** The daemon this server feeds: in this thread (linkDaemon) or in the main thread (thread.ts). */
  daemon: DaemonLink;
  logger: Logger;
  /** The home: TLS file paths are relative to it. */
  home: string;
  /** How long a successful app key lookup is trusted (revocation delay). Default 5000 ms. */
  authCacheMs?: number;
}

export interface ApiServer {
  /** Where the server listens, e.g. http://127.0.0.1:7878 (the real port when listen asked for 0). */
  url: string;
  /** Stops accepting, closes connections and stops feeding metrics. Safe to call twice. */
  close(): Promise<void>;
}

function readTls(config: Config, home: string): { cert: Buffer; key: Buffer } | undefined {
  const { tlsCert, tlsKey } = config.server;
  if (!tlsCert && !tlsKey) return undefined;
  if (!tlsCert || !tlsKey) throw new ConfigError('server.tlsCert and server.tlsKey go together: set both PEM files, or neither for plain HTTP');
  const read = (key: string, file: string) => {
    const path = isAbsolute(file) ? file : join(home, file);
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(`cannot read ${key} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}: fix the path or the file's permissions`);
    }
  };
  return { cert: read('server.tlsCert', tlsCert), key: read('server.tlsKey', tlsKey) };
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '::1';
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { config, store, clock, daemon, logger, home } = options;
  const { host, port } = parseListen(config.server.listen);
  const tls = readTls(config, home);
  const bodyLimit = config.server.bodyLimit;
  const app = Fastify({
    logger: false,
    bodyLimit,
    ...(tls ? { https: tls } : {}),
    routerOptions: { maxParamLength: 600 },
    forceCloseConnections: true,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  }) as unknown as FastifyInstance;

  const metrics = new RequestMetrics();
  const auth = new Authenticator({ store, clock, cacheMs: options.authCacheMs });
  const ctx = { config, store, clock, daemon };

  // JSON only: a text/plain body is a 415, not a string that fails the schema.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler(logger, bodyLimit));
  app.setNotFoundHandler((request, reply) => {
    const e = new ApiError(404, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}: see the API routes in the daemon documentation`);
    void reply.code(404).send(e.body());
  });
  // The request log is debug level: off by default, and then not even built.
  const debug = logger.isLevelEnabled('debug');
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? '(unmatched)';
    metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    if (debug) logger.debug({ method: request.method, route, status: reply.statusCode, app: request.apiApp?.name, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'api request');
    done();
  });

  registerHealthRoutes(app, {
    store, running: () => daemon.running(),
    metrics: async () => ({ contentType: metrics.registry.contentType, body: (await daemon.metrics()) + (await metrics.render()) }),
  });
  registerTrackingRoutes(app, { config, store, clock });
  await app.register(async (v1) => {
    v1.addHook('onRequest', auth.hook());
    registerNotificationRoutes(v1, ctx);
    registerUserRoutes(v1, ctx);
    registerDeviceRoutes(v1, ctx);
    registerPreferenceRoutes(v1, ctx);
    registerEventRoutes(v1, ctx);
  }, { prefix: '/v1' });

  try {
    await app.listen({ host, port });
  } catch (err) {
    metrics.close();
    await app.close().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConfigError(`cannot listen on ${config.server.listen}: the address is in use; stop what holds it or change server.listen`);
    if (code === 'EACCES' || code === 'EADDRNOTAVAIL') throw new ConfigError(`cannot listen on ${config.server.listen} (${code}): choose another server.listen`);
    throw err;
  }
  const address = app.server.address() as AddressInfo;
  const url = `${tls ? 'https' : 'http'}://${urlHost(host)}:${address.port}`;
  if (!tls && !isLoopback(host)) {
    logger.warn({ listen: config.server.listen }, 'the API listens beyond this machine without TLS: set server.tlsCert and server.tlsKey, or bind to a private address');
  }
  logger.info({ url, publicUrl: config.server.publicUrl ?? null }, 'API listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= (async () => {
        try {
          await app.close();
        } finally {
          metrics.close();
        }
      })();
      return closing;
    },
  };
}
