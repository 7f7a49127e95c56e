/**
 * Android push through FCM HTTP v1 with firebase-admin and a service account JSON file.
 *
 * - Connections: one keep-alive https.Agent is the app's `httpAgent`; with `channels.fcm.endpoint` set
 *   it connects to that host:port instead of fcm.googleapis.com (firebase-admin hard-codes the host).
 *   `send()` always goes over this HTTP/1.1 path; the legacy transport is enabled too so that no
 *   batch call would bypass the agent over HTTP/2.
 * - Tokens: our own Credential does the JWT-bearer grant against the file's `token_uri`.
 * - Errors: firebase-admin folds FCM's answer into a FirebaseMessagingError without the HTTP status or
 *   Retry-After, so the agent also keeps, for each send, the status, headers and body of an error
 *   answer; the table below reads FCM's own errorCode first and the SDK's code otherwise.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { Agent, type RequestOptions } from 'node:https';
import { isIP } from 'node:net';
import { isAbsolute, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { deleteApp, initializeApp, type App } from 'firebase-admin/app';
import { getMessaging, type Message, type Messaging } from 'firebase-admin/messaging';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import { networkErrorCode, abortable, parseRetryAfter } from './network.js';
import { parseServiceAccount, ServiceAccountCredential, TokenError, type ServiceAccount } from './fcm-credential.js';
import { DeliveryError, type AdapterContext, type ChannelAdapter, type DeliveryErrorAction, type DeliveryErrorKind, type OutboundMessage, type SendResult } from './types.js';

type FcmConfig = Config['channels']['fcm'];
type Headers = Record<string, string | string[] | undefined>;

const RULES: [DeliveryErrorKind, DeliveryErrorAction | undefined, string[]][] = [
  ['invalid-address', undefined, [
    'UNREGISTERED', 'messaging/registration-token-not-registered', 'messaging/invalid-registration-token',
  ]],
  ['rate-limited', undefined, [
    'QUOTA_EXCEEDED', 'RESOURCE_EXHAUSTED', 'messaging/message-rate-exceeded', 'messaging/device-message-rate-exceeded',
    'messaging/topics-message-rate-exceeded',
  ]],
  ['retryable', undefined, [
    'UNAVAILABLE', 'INTERNAL', 'DEADLINE_EXCEEDED', 'messaging/server-unavailable', 'messaging/internal-error',
    'app/network-error', 'app/network-timeout',
  ]],
  // Our key, project or the APNs / web push credentials uploaded to Firebase are broken.
  ['permanent', 'alert', [
    'UNAUTHENTICATED', 'PERMISSION_DENIED', 'THIRD_PARTY_AUTH_ERROR', 'APNS_AUTH_ERROR', 'messaging/third-party-auth-error',
    'messaging/authentication-error', 'messaging/invalid-project-id', 'app/invalid-credential', 'invalid_grant',
    'invalid_client', 'unauthorized_client', 'invalid_scope',
  ]],
  // The token belongs to another sender, or the message itself is wrong: never retry this one.
  ['permanent', undefined, [
    'SENDER_ID_MISMATCH', 'INVALID_ARGUMENT', 'NOT_FOUND', 'messaging/mismatched-credential', 'messaging/invalid-argument',
    'messaging/invalid-payload', 'messaging/invalid-data-payload-key', 'messaging/payload-size-limit-exceeded',
    'messaging/invalid-options', 'messaging/invalid-recipient', 'messaging/invalid-package-name',
  ]],
];
const TABLE = new Map(RULES.flatMap(([kind, action, codes]) => codes.map((c) => [c, { kind, action }] as const)));

/**
 * FCM's error table. `code` is FCM's errorCode (`UNREGISTERED`), its canonical status (`UNAVAILABLE`),
 * a firebase-admin code (`messaging/registration-token-not-registered`) or an OAuth error
 * (`invalid_grant`); unknown codes fall back on the HTTP status, and no status means a network error.
 * NOT_FOUND without FCM's errorCode is not taken as a dead token: a wrong project answers that too.
 */
export function classifyFcmError(code: string, status?: number, headers: Headers = {}): DeliveryError {
  const message = `FCM ${status !== undefined ? `answered ${status} ` : ''}${code}`;
  const rule = TABLE.get(code);
  const kind: DeliveryErrorKind = rule?.kind
    ?? (status === undefined ? 'retryable' : status === 429 ? 'rate-limited' : status >= 500 ? 'retryable' : 'permanent');
  const options: { retryAfterMs?: number; action?: DeliveryErrorAction; status?: number } = {};
  if (status !== undefined) options.status = status;
  if (rule?.action) options.action = rule.action;
  else if (!rule && (status === 401 || status === 403)) options.action = 'alert';
  if (kind === 'rate-limited') {
    const ms = parseRetryAfter(headers['retry-after']);
    if (ms !== undefined) options.retryAfterMs = ms;
  }
  return new DeliveryError(kind, code, message, options);
}

export async function createFcmAdapter(config: FcmConfig, ctx: AdapterContext): Promise<ChannelAdapter> {
  const file = config.serviceAccountFile;
  if (file === undefined || file === '') {
    throw new ConfigError('channels.fcm.serviceAccountFile is not set: run "notify config set channels.fcm.serviceAccountFile service-account.json" (the key file from the Firebase console)');
  }
  const path = isAbsolute(file) ? file : join(ctx.home, file);
  let account: ServiceAccount;
  try {
    account = parseServiceAccount(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`channels.fcm.serviceAccountFile: cannot use ${path} (${(err as Error).message}): download a service account key from the Firebase console`);
  }
  let target: { host: string; port: number } | undefined;
  if (config.endpoint) {
    const url = new URL(config.endpoint);
    if (url.protocol !== 'https:') throw new ConfigError(`channels.fcm.endpoint must be an https:// URL, not ${config.endpoint}`);
    target = { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port ? Number(url.port) : 443 };
  }

  const agent = new FcmAgent(target);
  const credential = new ServiceAccountCredential(account);
  const app = initializeApp({ credential, projectId: account.projectId, httpAgent: agent }, `notify-fcm-${randomUUID()}`);
  const messaging = getMessaging(app);
  messaging.enableLegacyHttpTransport();
  // The daemon owns retries and their backoff; firebase-admin would otherwise retry 503s itself for up to
  // ~8 s inside one send, holding a lane slot and hiding the answer. Its retry of a reset keep-alive
  // socket (ECONNRESET) stays on. This reaches into firebase-admin's internals; if they move, sends still
  // work and only that inner retry comes back.
  const retry = (messaging as unknown as { messagingRequestHandler?: { httpClient?: { retry?: { statusCodes?: number[] } } } })
    .messagingRequestHandler?.httpClient?.retry;
  if (retry) retry.statusCodes = [];
  return new FcmAdapter(app, messaging, credential, agent);
}

/** What the agent saw of one send's last HTTP answer, when it was an error. */
interface Answer {
  status?: number;
  headers?: Headers;
  body?: string;
}

const current = new AsyncLocalStorage<Answer>();

/** Keep-alive, optionally re-pointed at the endpoint, and recording error answers for the send in progress. */
class FcmAgent extends Agent {
  constructor(private target: { host: string; port: number } | undefined) {
    super({ keepAlive: true });
  }

  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    if (!this.target) return super.createConnection(options, callback);
    const { host, port } = this.target;
    const redirected: RequestOptions & { servername?: string } = { ...options, host, hostname: host, port };
    // The certificate is checked against the endpoint's name (SNI carries no IP addresses).
    if (isIP(host)) delete redirected.servername;
    else redirected.servername = host;
    return super.createConnection(redirected, callback);
  }

  /** Node's Agent hook for every request it carries; runs inside the send's async context. */
  addRequest(req: ClientRequest, options: RequestOptions): void {
    const answer = current.getStore();
    if (answer) {
      req.once('response', (res: IncomingMessage) => {
        answer.status = res.statusCode;
        answer.headers = res.headers;
        answer.body = undefined;
        if ((res.statusCode ?? 0) < 400) return;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => { answer.body = Buffer.concat(chunks).toString('utf8'); });
      });
    }
    (Agent.prototype as unknown as { addRequest(req: ClientRequest, options: RequestOptions): void }).addRequest.call(this, req, options);
  }
}

class FcmAdapter implements ChannelAdapter {
  readonly name = 'fcm';
  private closing: Promise<void> | undefined;

  constructor(private app: App, private messaging: Messaging, private credential: ServiceAccountCredential, private agent: Agent) {}

  async send(message: OutboundMessage, options: { signal?: AbortSignal } = {}): Promise<SendResult> {
    if (message.channel !== 'push') throw new DeliveryError('permanent', 'wrong-channel', `the fcm adapter cannot send ${message.channel}`);
    if (this.closing) throw new DeliveryError('retryable', 'closed', 'the fcm adapter is closed');
    if (options.signal?.aborted) throw new DeliveryError('retryable', 'ABORTED', 'the FCM send was aborted before it started');
    // Asking the credential first (it caches) keeps the token endpoint's own answer, which
    // firebase-admin would wrap into a generic app/invalid-credential.
    try {
      await this.credential.getAccessToken();
    } catch (err) {
      throw tokenFailure(err);
    }
    const answer: Answer = {};
    try {
      const name = await abortable(current.run(answer, () => this.messaging.send(buildMessage(message))), options.signal, 'FCM');
      return { providerId: name };
    } catch (err) {
      if (err instanceof DeliveryError) throw err;
      throw toDeliveryError(err, answer);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await deleteApp(this.app);
      } finally {
        this.agent.destroy();
      }
    })();
    return this.closing;
  }
}

/** RenderedPush → an FCM v1 message for Android. */
export function buildMessage(message: OutboundMessage & { channel: 'push' }, now = Date.now()): Message {
  const c = message.content;
  const data: Record<string, string> = { ...c.data };
  if (c.url !== undefined) data.url = c.url;
  data.notify_nid = message.notificationId;
  data.notify_did = String(message.deliveryId);
  const notification: { sound?: string; notificationCount?: number } = {};
  if (c.sound !== undefined) notification.sound = c.sound;
  if (c.badge !== undefined) notification.notificationCount = c.badge;
  const android: NonNullable<Message['android']> = {
    priority: message.priority === 'high' ? 'high' : 'normal',
    notification,
  };
  if (c.collapseKey) android.collapseKey = c.collapseKey;
  if (message.expiresAt !== undefined) android.ttl = Math.max(0, Math.floor((message.expiresAt - now) / 1000) * 1000);
  return { token: message.to, notification: { title: c.title, body: c.body }, data, android };
}

function toDeliveryError(err: unknown, answer: Answer): DeliveryError {
  const fcmCode = answer.body !== undefined ? rawErrorCode(answer.body) : undefined;
  if (fcmCode) return classifyFcmError(fcmCode, answer.status, answer.headers);
  const sdkCode = (err as { code?: unknown }).code;
  if (typeof sdkCode === 'string') {
    const status = answer.status !== undefined && answer.status >= 400 ? answer.status : undefined;
    return classifyFcmError(sdkCode, status, answer.headers);
  }
  // No FCM answer and no SDK code: the request never got through (refused, reset, timed out).
  return new DeliveryError('retryable', networkErrorCode(err) ?? 'network-error', `FCM send failed: ${(err as Error).message ?? String(err)}`);
}

/** FCM's errorCode from an error body, else its canonical status. */
function rawErrorCode(body: string): string | undefined {
  try {
    const error = (JSON.parse(body) as { error?: { status?: unknown; details?: { '@type'?: string; errorCode?: unknown }[] } }).error;
    const detail = error?.details?.find((d) => d['@type'] === 'type.googleapis.com/google.firebase.fcm.v1.FcmError');
    if (typeof detail?.errorCode === 'string') return detail.errorCode;
    return typeof error?.status === 'string' ? error.status : undefined;
  } catch {
    return undefined;
  }
}

function tokenFailure(err: unknown): DeliveryError {
  if (err instanceof TokenError) {
    if (err.transient) {
      return new DeliveryError('retryable', err.oauthError ?? 'token-endpoint', `FCM access token: ${err.message}`, err.status ? { status: err.status } : {});
    }
    return new DeliveryError('permanent', err.oauthError ?? String(err.status), `FCM access token: ${err.message}`, { status: err.status, action: 'alert' });
  }
  return new DeliveryError('permanent', 'credential', `FCM access token: ${(err as Error).message}`, { action: 'alert' });
}


