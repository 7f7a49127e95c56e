/**
 * App authentication (HTTP Basic `appKey:appSecret`), per-app rate limits and scopes, run as an
 * onRequest hook before the body is read: an unauthenticated request never has its body parsed.
 *
 * - The secret's SHA-256 is compared with the stored hash in constant time.
 * - Successful lookups are cached in memory for `cacheMs` (default 5 s), so a revoked key keeps working
 *   for at most that long in a running daemon. A secret that does not match the cached hash is checked
 *   against the database again, so a rotated secret works at once.
 * - Rate: a token bucket per app in this daemon process, holding one second of the app's rate; an empty
 *   bucket answers 429 with Retry-After in whole seconds. With several daemons each enforces its own.
 *
 * Order: credentials (401) -> rate (429) -> scope (403).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../core/time.js';
import type { Store } from '../../store/index.js';
import { hashSecret, secretMatches, type App, type AppScope, type AppWithHash } from '../../store/apps.js';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated app, on /v1 routes. */
    apiApp?: App;
  }
  interface FastifyContextConfig {
    /** The scope a route needs. */
    scope?: AppScope;
  }
}

export interface AuthenticatorOptions {
  store: Store;
  clock: Clock;
  /** How long a successful key lookup is trusted. Default 5000 ms; 0 reads the database every time. */
  cacheMs?: number;
}

const KEY_RE = /^ak_[A-Za-z0-9_-]{22}$/;
/** Hashed when the key is unknown, so both failures cost the same. */
const DUMMY_HASH = hashSecret('sk_dummy');
const CHALLENGE = { 'www-authenticate': 'Basic realm="notify", charset="UTF-8"' };

function unauthorized(message: string, code: 'unauthorized' | 'revoked' = 'unauthorized'): ApiError {
  return new ApiError(401, code, message, undefined, CHALLENGE);
}

interface Bucket {
  tokens: number;
  at: number;
}

export class Authenticator {
  private cache = new Map<string, { app: AppWithHash; until: number }>();
  private buckets = new Map<string, Bucket>();
  private cacheMs: number;

  constructor(private options: AuthenticatorOptions) {
    this.cacheMs = options.cacheMs ?? 5000;
  }

  /** The app named by an Authorization header, or a 401. */
  async authenticate(header: string | undefined): Promise<App> {
    if (!header) throw unauthorized('missing credentials: send HTTP Basic auth with your app key and secret (create them with "notify apps create")');
    const space = header.indexOf(' ');
    if (space < 0 || header.slice(0, space).toLowerCase() !== 'basic') {
      throw unauthorized('the Authorization header must be HTTP Basic with your app key and secret');
    }
    const decoded = Buffer.from(header.slice(space + 1).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const key = colon < 0 ? decoded : decoded.slice(0, colon);
    const secret = colon < 0 ? '' : decoded.slice(colon + 1);
    const wrong = () => unauthorized('wrong app key or secret: check both, or create a new key with "notify apps create"');
    if (!KEY_RE.test(key) || !secret) throw wrong();
    let app = await this.lookup(key, false);
    if (app && !secretMatches(secret, app.secretHash)) {
      // Perhaps rotated since it was cached.
      app = await this.lookup(key, true);
      if (app && !secretMatches(secret, app.secretHash)) throw wrong();
    }
    if (!app) {
      secretMatches(secret, DUMMY_HASH);
      throw wrong();
    }
    if (app.revokedAt) throw unauthorized(`app key of "${app.name}" was revoked at ${app.revokedAt}: use a current key (see "notify apps list")`, 'revoked');
    return app;
  }

  private async lookup(key: string, fresh: boolean): Promise<AppWithHash | undefined> {
    const now = this.options.clock.now();
    const hit = this.cache.get(key);
    if (!fresh && hit && hit.until > now) return hit.app;
    const app = await this.options.store.apps.findByKey(key);
    if (app && this.cacheMs > 0) this.cache.set(key, { app, until: now + this.cacheMs });
    else this.cache.delete(key);
    return app;
  }

  /** Takes one request from the app's bucket, or throws 429 with Retry-After. */
  take(app: App): void {
    const now = this.options.clock.now();
    const rate = app.ratePerSec;
    const capacity = Math.max(1, rate);
    let bucket = this.buckets.get(app.id);
    if (!bucket) {
      bucket = { tokens: capacity, at: now };
      this.buckets.set(app.id, bucket);
    }
    bucket.tokens = Math.min(capacity, bucket.tokens + (Math.max(0, now - bucket.at) * rate) / 1000);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return;
    }
    const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / rate));
    throw new ApiError(429, 'rate_limited', `app "${app.name}" is over its rate of ${rate}/s: retry after ${retryAfter} s, or ask for a higher --rate`,
      undefined, { 'retry-after': String(retryAfter) });
  }

  /** The fastify onRequest hook for authenticated routes. */
  hook() {
    return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
      const app = await this.authenticate(request.headers.authorization);
      request.apiApp = app;
      this.take(app);
      const scope = request.routeOptions.config.scope;
      if (scope && !app.scopes.includes(scope)) {
        throw new ApiError(403, 'forbidden', `app "${app.name}" lacks the "${scope}" scope: use a key created with --scopes including ${scope}`);
      }
    };
  }
}
