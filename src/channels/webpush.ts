/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) through the web-push library: the payload is encrypted with
 * `aes128gcm` for each subscription and posted to the subscription's own endpoint, on one keep-alive agent.
 */
import { createECDH, createHash } from 'node:crypto';
import { Agent } from 'node:https';
import webpush from 'web-push';
import type { Config } from '../config.js';
import type { Priority } from '../core/types.js';
import { ConfigError } from '../errors.js';
import { networkDeliveryError, abortable, parseRetryAfter } from './network.js';
import { DeliveryError, type AdapterContext, type ChannelAdapter, type OutboundMessage, type SendResult } from './types.js';

type WebPushConfig = Config['channels']['webpush'];

/** What push services keep a message for when the delivery has no expiry: web-push's default, four weeks. */
const DEFAULT_TTL_S = 2_419_200;

/** VAPID JWTs live 12 h (the limit is 24 h). */
const VAPID_JWT_LIFETIME_S = 12 * 60 * 60;

const URGENCY: Record<Priority, webpush.Urgency> = { high: 'high', normal: 'normal', low: 'low' };

/**
 * The web push error table, by the push service's HTTP status:
 * 404/410 -> invalid-address (the subscription is gone: deactivate the device); 429 -> rate-limited
 * (Retry-After); 401/403 -> permanent, alert (VAPID keys rejected); 413/400 and other 4xx -> permanent;
 * 5xx -> retryable.
 */
export function classifyWebPushError(
  status: number,
  headers: Record<string, string | string[] | undefined> = {},
  body = '',
): DeliveryError {
  const text = `web push ${status}${body ? `: ${body.slice(0, 300)}` : ''}`;
  const code = String(status);
  const retryAfterMs = parseRetryAfter(headers['retry-after']);
  if (status === 404 || status === 410) return new DeliveryError('invalid-address', code, text, { status });
  if (status === 429) return new DeliveryError('rate-limited', code, text, { status, retryAfterMs });
  if (status === 401 || status === 403) {
    return new DeliveryError('permanent', code, `${text} (check channels.webpush.vapidPublicKey / vapidPrivateKey / subject)`, { status, action: 'alert' });
  }
  if (status >= 500 || status === 0) return new DeliveryError('retryable', code, text, { status, retryAfterMs });
  return new DeliveryError('permanent', code, text, { status });
}

/** Retry-After as delta-seconds or an HTTP date, in ms from now. */

/**
 * The Topic header allows at most 32 characters of the URL-safe base64 alphabet. A collapse key that fits is
 * sent as is; any other is replaced by a digest, so distinct keys stay distinct.
 */
export function topicFor(collapseKey: string | undefined): string | undefined {
  if (!collapseKey) return undefined;
  if (/^[A-Za-z0-9_-]{1,32}$/.test(collapseKey)) return collapseKey;
  return createHash('sha256').update(collapseKey).digest('base64url').slice(0, 32);
}

function requireKey(config: WebPushConfig, key: 'vapidPublicKey' | 'vapidPrivateKey' | 'subject'): string {
  const value = config[key];
  if (value) return value;
  const fix = key === 'subject'
    ? 'run "notify config set channels.webpush.subject mailto:ops@example.com"'
    : 'run "notify channels webpush-keys --save" (or "notify config set channels.webpush.' + key + ' <base64url>")';
  throw new ConfigError(`channels.webpush.${key} is not set: ${fix}`);
}


export async function createWebPushAdapter(config: WebPushConfig, _ctx: AdapterContext): Promise<ChannelAdapter> {
  const vapidDetails = {
    subject: requireKey(config, 'subject'),
    publicKey: requireKey(config, 'vapidPublicKey'),
    privateKey: requireKey(config, 'vapidPrivateKey'),
  };
  try {
    // web-push's own checks of the subject and both keys, without touching its global state.
    webpush.getVapidHeaders('https://push.example', vapidDetails.subject, vapidDetails.publicKey, vapidDetails.privateKey, 'aes128gcm');
  } catch (err) {
    throw new ConfigError(`channels.webpush: ${(err as Error).message}`);
  }
  let derivedPublicKey: string;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(vapidDetails.privateKey, 'base64url'));
    derivedPublicKey = ecdh.getPublicKey('base64url');
  } catch (err) {
    throw new ConfigError(`channels.webpush.vapidPrivateKey is not a P-256 private key (${(err as Error).message}): run "notify channels webpush-keys --save --force"`);
  }
  if (derivedPublicKey !== vapidDetails.publicKey) {
    throw new ConfigError('channels.webpush.vapidPublicKey is not the public half of channels.webpush.vapidPrivateKey: set both from one "notify channels webpush-keys" run');
  }
  const agent = new Agent({ keepAlive: true, scheduling: 'lifo' });
  let closed = false;

  // One signed VAPID JWT per push service origin, reused until an hour before it expires (RFC 8292 allows
  // reuse). Signing per message would cost an ECDSA signature each time — most of a send's CPU.
  const vapidByAudience = new Map<string, { authorization: string; refreshAt: number }>();
  function vapidAuthorization(endpoint: string): string {
    let audience: string;
    try {
      audience = new URL(endpoint).origin;
    } catch {
      throw new DeliveryError('invalid-address', 'INVALID_SUBSCRIPTION', `web push subscription endpoint is not a URL: ${endpoint}`);
    }
    const now = Date.now();
    const cached = vapidByAudience.get(audience);
    if (cached && cached.refreshAt > now) return cached.authorization;
    const expiration = Math.floor(now / 1000) + VAPID_JWT_LIFETIME_S;
    const { Authorization } = webpush.getVapidHeaders(audience, vapidDetails.subject, vapidDetails.publicKey, vapidDetails.privateKey, 'aes128gcm', expiration);
    if (vapidByAudience.size >= 1000) vapidByAudience.clear();
    vapidByAudience.set(audience, { authorization: Authorization, refreshAt: now + (VAPID_JWT_LIFETIME_S - 3600) * 1000 });
    return Authorization;
  }

  return {
    name: 'webpush',
    async send(message: OutboundMessage, options: { signal?: AbortSignal } = {}): Promise<SendResult> {
      if (message.channel !== 'push') throw new DeliveryError('permanent', 'WRONG_CHANNEL', `the webpush adapter cannot send ${message.channel} messages`);
      if (closed) throw new DeliveryError('retryable', 'CLOSED', 'the webpush adapter is closed');
      if (options.signal?.aborted) throw new DeliveryError('retryable', 'ABORTED', 'web push request aborted');
      const subscription = message.subscription;
      if (!subscription) throw new DeliveryError('permanent', 'NO_SUBSCRIPTION', `device ${message.to} has no web push subscription keys`);
      const { title, body, url, data, collapseKey } = message.content;
      const payload = JSON.stringify({ title, body, url, data, nid: message.notificationId, did: message.deliveryId });
      const ttl = message.expiresAt === undefined ? DEFAULT_TTL_S : Math.max(0, Math.floor((message.expiresAt - Date.now()) / 1000));
      const topic = topicFor(collapseKey);
      try {
        // The Authorization header carries the cached VAPID JWT, so web-push is not given vapidDetails
        // (it would sign a new one).
        const result = await abortable(webpush.sendNotification(subscription, payload, {
          headers: { Authorization: vapidAuthorization(subscription.endpoint) },
          TTL: ttl,
          urgency: URGENCY[message.priority],
          ...(topic ? { topic } : {}),
          contentEncoding: 'aes128gcm',
          agent,
          timeout: 30_000,
        }), options.signal, 'web push');
        const location = result.headers.location;
        return { providerId: (Array.isArray(location) ? location[0] : location) ?? `${result.statusCode}` };
      } catch (err) {
        // A rejected JWT (clock skew, rotated keys) is signed afresh on the next attempt.
        if (err instanceof webpush.WebPushError && (err.statusCode === 401 || err.statusCode === 403)) {
          try {
            vapidByAudience.delete(new URL(subscription.endpoint).origin);
          } catch { /* the endpoint was already found to be a URL */ }
        }
        throw toDeliveryError(err);
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      agent.destroy();
    },
  };
}

function toDeliveryError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  if (err instanceof webpush.WebPushError) return classifyWebPushError(err.statusCode, err.headers, err.body);
  const e = err as { code?: unknown; message?: string };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const network = networkDeliveryError(err, 'web push', 'check trusted CAs');
  if (network) return network;
  if (e.message === 'Socket timeout') return new DeliveryError('retryable', 'ETIMEDOUT', 'web push request timed out');
  // web-push refuses malformed subscriptions before sending (bad endpoint, p256dh or auth): that device
  // can never receive, so it is deactivated.
  if (/subscription|p256dh|auth|public key|curve/i.test(e.message ?? '')) {
    return new DeliveryError('invalid-address', 'INVALID_SUBSCRIPTION', `web push subscription is unusable: ${e.message}`);
  }
  return new DeliveryError('permanent', code ?? 'WEBPUSH', `web push failed: ${e.message ?? String(err)}`);
}
