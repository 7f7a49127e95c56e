/**
 * A loopback APNs: HTTP/2 over TLS, provider-token (JWT, ES256) authentication, the `/3/device/<token>`
 * endpoint with APNs' header and payload checks, and APNs' real error bodies. It generates its own
 * signing key and writes it as a .p8 file, so a client is configured exactly as for Apple:
 * `keyFile = keyPath`, `keyId`, `teamId`, `topic`, `endpoint = url`.
 */
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import { createPublicKey, generateKeyPairSync, randomBytes, randomUUID, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { FailureScript } from './failure-script.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The fixtures, whether this runs compiled (dist/test/emulators) or from source. */
const TLS_DIR = [join(HERE, '..', 'fixtures', 'tls'), join(HERE, '..', '..', '..', 'test', 'fixtures', 'tls')].find((d) => existsSync(d))!;

/** The APNs reasons tests usually script, with their status codes. */
export const APNS_REASON_STATUS = {
  BadDeviceToken: 400,
  DeviceTokenNotForTopic: 400,
  BadTopic: 400,
  InvalidProviderToken: 403,
  ExpiredProviderToken: 403,
  Unregistered: 410,
  ExpiredToken: 410,
  PayloadTooLarge: 413,
  TooManyProviderTokenUpdates: 429,
  TooManyRequests: 429,
  InternalServerError: 500,
  ServiceUnavailable: 503,
  Shutdown: 503,
} as const;
export type ApnsReason = keyof typeof APNS_REASON_STATUS;

/** A scripted answer: a known reason (its usual status), or any status and reason. */
export type ApnsErrorSpec = ApnsReason | { status: number; reason: string; retryAfter?: number };

export interface ApnsReceived {
  token: string;
  /** The decoded JSON payload (`aps` plus custom keys). */
  payload: Record<string, unknown>;
  headers: {
    'apns-push-type'?: string;
    'apns-priority'?: string;
    'apns-expiration'?: string;
    'apns-collapse-id'?: string;
    'apns-topic'?: string;
  };
  /** The apns-id answered. */
  apnsId: string;
}

export interface ApnsEmulatorOptions {
  /** The bundle id the key is allowed to push to. Default `com.example.notify`. */
  topic?: string;
  /** Keep accepted messages in `received`. Turn off for long benchmarks; `accepted` still counts. Default true. */
  record?: boolean;
  /** Delay every answer by this many ms (benchmarks of slow providers). Default 0. */
  delayMs?: number;
}

export interface ApnsEmulator {
  /** https://127.0.0.1:PORT — use as `channels.apns.endpoint`. */
  url: string;
  keyPath: string;
  keyId: string;
  teamId: string;
  topic: string;
  /** Messages accepted since start (or reset), recorded or not. */
  readonly accepted: number;
  /** Accepted notifications, in arrival order. */
  received: ApnsReceived[];
  /** Every request that reached the handler (accepted or not). */
  readonly requests: number;
  /** HTTP/2 sessions opened by clients since start (or reset). */
  readonly sessions: number;
  fail(token: string, responses: ApnsErrorSpec[]): void;
  failAlways(token: string, spec: ApnsErrorSpec): void;
  reset(): void;
  close(): Promise<void>;
}

const PUSH_TYPES = new Set(['alert', 'background', 'location', 'voip', 'complication', 'fileprovider', 'mdm', 'liveactivity', 'pushtotalk', 'widgets']);
const MAX_PAYLOAD = 4096;
/** APNs refuses tokens older than an hour. */
const TOKEN_MAX_AGE_S = 3600;

export async function startApnsEmulator(options: ApnsEmulatorOptions = {}): Promise<ApnsEmulator> {
  const topic = options.topic ?? 'com.example.notify';
  const keyId = randomId(10);
  const teamId = randomId(10);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicKey = createPublicKey(privateKey);
  const dir = mkdtempSync(join(tmpdir(), 'apns-emulator-'));
  const keyPath = join(dir, `AuthKey_${keyId}.p8`);
  writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });

  const received: ApnsReceived[] = [];
  const script = new FailureScript<ApnsErrorSpec>();
  /** Verified JWTs and their iat, so a busy client costs one signature check per token. */
  const verified = new Map<string, number>();
  const live = new Set<ServerHttp2Session>();
  /** Answers held back by `delayMs`: dropped on close, so no timer outlives the emulator. */
  const held = new Set<NodeJS.Timeout>();
  let sessions = 0;
  let accepted = 0;
  let requests = 0;

  const server = createSecureServer({
    cert: readFileSync(join(TLS_DIR, 'server.pem')),
    key: readFileSync(join(TLS_DIR, 'server-key.pem')),
  });
  server.on('session', (session) => {
    sessions++;
    live.add(session);
    session.on('close', () => live.delete(session));
    session.on('error', () => {});
  });
  server.on('request', (req, res) => {
    requests++;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => { size += c.length; if (size <= MAX_PAYLOAD + 1) chunks.push(c); });
    req.on('end', () => {
      const answer = () => handle(req, res, Buffer.concat(chunks), size);
      if (!options.delayMs) return answer();
      const timer = setTimeout(() => {
        held.delete(timer);
        answer();
      }, options.delayMs);
      held.add(timer);
    });
    req.on('error', () => {});
  });

  function handle(req: Http2ServerRequest, res: Http2ServerResponse, body: Buffer, size: number): void {
    const auth = checkAuth(req.headers.authorization);
    if (auth) return reply(res, 403, auth);
    if (req.method !== 'POST') return reply(res, 405, 'MethodNotAllowed');
    const match = /^\/3\/device\/([^/?]*)$/.exec(req.url);
    if (!match) return reply(res, 404, 'BadPath');
    const token = match[1]!;
    if (!/^[0-9a-fA-F]{64}$/.test(token)) return reply(res, 400, 'BadDeviceToken');
    const h = req.headers;
    const header = (name: string) => (typeof h[name] === 'string' ? (h[name] as string) : undefined);
    const topicHeader = header('apns-topic');
    if (topicHeader === undefined) return reply(res, 400, 'MissingTopic');
    if (topicHeader !== topic) return reply(res, 400, 'BadTopic');
    const pushType = header('apns-push-type');
    if (pushType !== undefined && !PUSH_TYPES.has(pushType)) return reply(res, 400, 'InvalidPushType');
    const priority = header('apns-priority');
    if (priority !== undefined && !['1', '5', '10'].includes(priority)) return reply(res, 400, 'BadPriority');
    const expiration = header('apns-expiration');
    if (expiration !== undefined && !/^\d+$/.test(expiration)) return reply(res, 400, 'BadExpirationDate');
    const collapseId = header('apns-collapse-id');
    if (collapseId !== undefined && Buffer.byteLength(collapseId) > 64) return reply(res, 400, 'BadCollapseId');
    const requestedId = header('apns-id');
    if (requestedId !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(requestedId)) {
      return reply(res, 400, 'BadMessageId');
    }
    if (size === 0) return reply(res, 400, 'PayloadEmpty');
    if (size > MAX_PAYLOAD) return reply(res, 413, 'PayloadTooLarge');
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw new Error('not an object');
    } catch {
      // APNs documents no reason for a body that is not JSON; it answers 400 with this one.
      return reply(res, 400, 'BadPayload');
    }

    const spec = script.next(token);
    if (spec) {
      const s = typeof spec === 'string' ? { status: APNS_REASON_STATUS[spec], reason: spec } : spec;
      return reply(res, s.status, s.reason, s.retryAfter);
    }

    const apnsId = requestedId ?? randomUUID();
    accepted++;
    if (options.record !== false) received.push({
      token,
      payload,
      headers: {
        'apns-push-type': pushType,
        'apns-priority': priority,
        'apns-expiration': expiration,
        'apns-collapse-id': collapseId,
        'apns-topic': topicHeader,
      },
      apnsId,
    });
    res.writeHead(200, { 'apns-id': apnsId });
    res.end();
  }

  /** Returns the APNs reason for a bad provider token, or undefined when it is good. */
  function checkAuth(header: string | undefined): string | undefined {
    if (!header) return 'MissingProviderToken';
    const m = /^bearer (.+)$/i.exec(header);
    if (!m) return 'InvalidProviderToken';
    const jwt = m[1]!;
    const now = Math.floor(Date.now() / 1000);
    let iat = verified.get(jwt);
    if (iat === undefined) {
      const parsed = verifyEs256(jwt, publicKey);
      if (!parsed) return 'InvalidProviderToken';
      const { header: jh, payload } = parsed;
      if (jh.alg !== 'ES256' || jh.kid !== keyId || payload.iss !== teamId || typeof payload.iat !== 'number') {
        return 'InvalidProviderToken';
      }
      iat = payload.iat;
      if (iat > now + 60) return 'InvalidProviderToken';
      verified.set(jwt, iat);
    }
    if (now - iat > TOKEN_MAX_AGE_S) return 'ExpiredProviderToken';
    return undefined;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;

  return {
    url: `https://127.0.0.1:${port}`,
    keyPath, keyId, teamId, topic, received,
    get accepted() { return accepted; },
    get requests() { return requests; },
    get sessions() { return sessions; },
    fail(token, responses) { script.fail(token, responses); },
    failAlways(token, spec) { script.failAlways(token, spec); },
    reset() {
      received.length = 0;
      accepted = 0;
      script.clear();
      sessions = 0;
      requests = 0;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of held) clearTimeout(timer);
        held.clear();
        for (const s of live) s.destroy();
        server.close(() => resolve());
      }).finally(() => rmSync(dir, { recursive: true, force: true }));
      return closing;
    },
  };
}

function reply(res: Http2ServerResponse, status: number, reason: string, retryAfter?: number): void {
  const body: Record<string, unknown> = { reason };
  if (status === 410) body.timestamp = Date.now();
  const headers: Record<string, string> = { 'content-type': 'application/json', 'apns-id': randomUUID() };
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  res.writeHead(status, headers);
  res.end(JSON.stringify(body));
}

function verifyEs256(jwt: string, key: KeyObject): { header: Record<string, unknown>; payload: Record<string, unknown> } | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const signature = Buffer.from(parts[2]!, 'base64url');
    const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key, dsaEncoding: 'ieee-p1363' }, signature);
    return ok ? { header, payload } : undefined;
  } catch {
    return undefined;
  }
}

function randomId(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join('');
}
