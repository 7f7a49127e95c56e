/**
 * iOS push through APNs with @parse/node-apn and provider-token (.p8) authentication. One Provider,
 * so one HTTP/2 session multiplexes every send; the daemon's lane decides how many are in flight.
 *
 * node-apn resolves `send()` with `{ sent, failed }` instead of throwing; each failure carries the HTTP
 * status and APNs' `reason`, or only an `error` when the request never got an answer.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import apn from '@parse/node-apn';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import { DeliveryError, type AdapterContext, type ChannelAdapter, type OutboundMessage, type SendResult } from './types.js';
import { abortable, parseRetryAfter } from './network.js';

type ApnsConfig = Config['channels']['apns'];
type Headers = Record<string, string | string[] | undefined>;

/** A failed entry of node-apn's `send()` result. */
interface ApnsFailure {
  device?: string;
  status?: number | string;
  response?: { reason?: string; timestamp?: number };
  error?: Error & { code?: string };
}

/** Reasons that mean this device token will never work again: the daemon deactivates the device. */
const DEAD_TOKEN = new Set(['Unregistered', 'ExpiredToken', 'BadDeviceToken']);
/** Reasons that mean our key, team, topic or environment is wrong: nothing will get through until fixed. */
const BROKEN_SETUP = new Set([
  'InvalidProviderToken', 'MissingProviderToken', 'BadCertificate', 'BadCertificateEnvironment', 'Forbidden',
  'MissingTopic', 'BadTopic', 'TopicDisallowed',
]);

/**
 * APNs' error table. `status` is undefined when no answer arrived (connection refused or reset,
 * timeout): those are retryable like any network error.
 */
export function classifyApnsError(status: number | undefined, reason: string | undefined, headers: Headers = {}): DeliveryError {
  const code = reason ?? (status !== undefined ? String(status) : 'network-error');
  const message = status !== undefined ? `APNs answered ${status} ${reason ?? ''}`.trim() : `APNs request failed: ${reason ?? 'no answer'}`;
  if (status === undefined) return new DeliveryError('retryable', code, message);
  if (status === 410 || (status === 400 && reason !== undefined && DEAD_TOKEN.has(reason))) {
    return new DeliveryError('invalid-address', code, message, { status });
  }
  // node-apn has already minted a fresh token when it sees this; the next attempt carries it.
  if (reason === 'ExpiredProviderToken') return new DeliveryError('retryable', code, message, { status });
  if (reason !== undefined && BROKEN_SETUP.has(reason)) return new DeliveryError('permanent', code, message, { status, action: 'alert' });
  if (status === 403) return new DeliveryError('permanent', code, message, { status, action: 'alert' });
  if (status === 429) return new DeliveryError('rate-limited', code, message, { status, retryAfterMs: parseRetryAfter(headers['retry-after']) });
  if (status >= 500) return new DeliveryError('retryable', code, message, { status });
  // DeviceTokenNotForTopic lands here on purpose: with a mistyped topic every token says so, and
  // deactivating every device would be far worse than failing these deliveries.
  return new DeliveryError('permanent', code, message, { status });
}

export async function createApnsAdapter(config: ApnsConfig, ctx: AdapterContext): Promise<ChannelAdapter> {
  const keyId = required(config.keyId, 'keyId', 'ABC123DEFG');
  const teamId = required(config.teamId, 'teamId', 'TEAM123456');
  const topic = required(config.topic, 'topic', 'com.example.app');
  const keyFile = required(config.keyFile, 'keyFile', 'AuthKey_ABC123DEFG.p8');
  const keyPath = isAbsolute(keyFile) ? keyFile : join(ctx.home, keyFile);
  let key: string;
  try {
    key = readFileSync(keyPath, 'utf8');
    createPrivateKey(key);
  } catch (err) {
    throw new ConfigError(`channels.apns.keyFile: cannot use ${keyPath} as an APNs signing key (${(err as Error).message}): set it to the .p8 file from Apple`);
  }

  const options: apn.ProviderOptions = {
    token: { key, keyId, teamId },
    production: config.production,
    // The daemon owns retries and their backoff; node-apn's own would hold a lane slot and hide errors.
    connectionRetryLimit: 0,
  };
  if (config.endpoint) {
    const url = new URL(config.endpoint);
    if (url.protocol !== 'https:') throw new ConfigError(`channels.apns.endpoint must be an https:// URL, not ${config.endpoint}`);
    options.address = url.hostname.replace(/^\[(.*)\]$/, '$1');
    options.port = url.port ? Number(url.port) : 443;
  }
  const provider = new apn.Provider(options);
  return new ApnsAdapter(provider, topic);
}

class ApnsAdapter implements ChannelAdapter {
  readonly name = 'apns';
  private closing: Promise<void> | undefined;

  constructor(private provider: apn.Provider, private topic: string) {}

  async send(message: OutboundMessage, options: { signal?: AbortSignal } = {}): Promise<SendResult> {
    if (message.channel !== 'push') throw new DeliveryError('permanent', 'wrong-channel', `the apns adapter cannot send ${message.channel}`);
    if (this.closing) throw new DeliveryError('retryable', 'closed', 'the apns adapter is closed');
    if (options.signal?.aborted) throw new DeliveryError('retryable', 'ABORTED', 'the APNs send was aborted before it started');
    const content = message.content;
    const note = new apn.Notification();
    note.topic = this.topic;
    note.pushType = 'alert';
    // 10 delivers at once; 5 lets the device batch for power. APNs' default for alerts is 10.
    note.priority = message.priority === 'low' ? 5 : 10;
    if (message.expiresAt !== undefined) note.expiry = Math.max(0, Math.floor(message.expiresAt / 1000));
    if (content.collapseKey) note.collapseId = content.collapseKey;
    note.alert = { title: content.title, body: content.body };
    if (content.sound !== undefined) note.sound = content.sound;
    if (content.badge !== undefined) note.badge = content.badge;
    const payload: Record<string, unknown> = { ...content.data };
    if (content.url !== undefined) payload.url = content.url;
    payload.notify = { nid: message.notificationId, did: message.deliveryId };
    note.payload = payload;

    const result = await abortable(this.provider.send(note, message.to), options.signal, 'APNs');
    const sent = result.sent[0];
    if (sent) return { providerId: (sent as { 'apns-id'?: string })['apns-id'] ?? '' };
    const failure = (result.failed[0] ?? {}) as ApnsFailure;
    throw failureToError(failure);
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      // node-apn's shutdown waits for session.close()'s callback, which never comes for a session that
      // is already destroyed (say, after a refused connection): drop those first, and never wait forever.
      const client = (this.provider as unknown as { client?: Record<string, { destroyed?: boolean } | null | undefined> }).client;
      for (const key of ['session', 'manageChannelsSession']) {
        if (client?.[key]?.destroyed) client[key] = null;
      }
      const timer = setTimeout(resolve, 5000);
      timer.unref();
      this.provider.shutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.closing;
  }
}

/** Turns node-apn's failure shape into our error, recovering the reason node-apn folds into `error`. */
function failureToError(f: ApnsFailure): DeliveryError {
  const status = typeof f.status === 'number' ? f.status : undefined;
  if (status === undefined) {
    const cause = rootCause(f.error);
    return classifyApnsError(undefined, cause?.code ?? cause?.message ?? f.error?.message);
  }
  let reason = f.response?.reason;
  // node-apn replaces these two bodies by an error whose message is fixed or is the reason itself.
  if (reason === undefined && status === 500) reason = 'InternalServerError';
  if (reason === undefined && status === 403) reason = f.error?.message;
  return classifyApnsError(status, reason);
}

function rootCause(err: (Error & { code?: string }) | undefined): (Error & { code?: string }) | undefined {
  let cur = err;
  for (let i = 0; i < 10 && cur; i++) {
    const next = (cur as { jse_cause?: Error; cause?: unknown }).jse_cause ?? (cur as { cause?: unknown }).cause;
    if (!(next instanceof Error)) break;
    cur = next;
  }
  return cur;
}



function required(value: string | undefined, key: string, example: string): string {
  if (value === undefined || value === '') {
    throw new ConfigError(`channels.apns.${key} is not set: run "notify config set channels.apns.${key} ${example}"`);
  }
  return value;
}
