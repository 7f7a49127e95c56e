/**
 * A loopback Web Push service (RFC 8030) over HTTPS (the test CA's certificate): `POST /push/<id>` with VAPID
 * authentication (RFC 8292) and an `aes128gcm` payload (RFC 8291 + RFC 8188) that it decrypts with the
 * subscription's private key, like a browser would.
 */
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, randomUUID, verify, type ECDH } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FailureScript } from './failure-script.js';
import { closeOnce } from './close.js';

const HERE = dirname(fileURLToPath(import.meta.url));
// From test/emulators (sources) or dist/test/emulators (compiled).
const TLS_DIR = [join(HERE, '..', 'fixtures', 'tls'), join(HERE, '..', '..', '..', 'test', 'fixtures', 'tls')].find((d) => existsSync(d))!;

/** One scripted failure. */
export interface WebPushErrorSpec {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

/** Answers push services send (bodies in the style of Mozilla autopush). */
export const webPushErrors = {
  notFound: (): WebPushErrorSpec => ({ status: 404, body: errorBody(404, 102, 'Not Found', 'Request did not validate invalid token') }),
  gone: (): WebPushErrorSpec => ({ status: 410, body: errorBody(410, 106, 'Gone', 'Subscription has expired or been unsubscribed') }),
  tooManyRequests: (retryAfterSeconds?: number): WebPushErrorSpec => ({
    status: 429, body: errorBody(429, 203, 'Too Many Requests', 'Too many messages for this subscription'),
    headers: retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(retryAfterSeconds) },
  }),
  tooLarge: (): WebPushErrorSpec => ({ status: 413, body: errorBody(413, 104, 'Payload Too Large', 'Data payload too large') }),
  badRequest: (): WebPushErrorSpec => ({ status: 400, body: errorBody(400, 110, 'Bad Request', 'Invalid crypto headers') }),
  internal: (): WebPushErrorSpec => ({ status: 500, body: errorBody(500, 999, 'Internal Server Error', 'An unexpected server error occurred') }),
  unavailable: (retryAfterSeconds?: number): WebPushErrorSpec => ({
    status: 503, body: errorBody(503, 201, 'Service Unavailable', 'Service temporarily unavailable'),
    headers: retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(retryAfterSeconds) },
  }),
};

function errorBody(code: number, errno: number, error: string, message: string): string {
  return JSON.stringify({ code, errno, error, message, more_info: 'https://autopush.readthedocs.io/en/latest/http.html#error-codes' });
}

/** A push message the service accepted, decrypted. */
export interface ReceivedPush {
  subscriptionId: string;
  endpoint: string;
  /** The decrypted payload parsed as JSON (undefined when it is not JSON or there was none). */
  payload: unknown;
  /** The decrypted payload as text; null for a push without payload. */
  text: string | null;
  ttl: number;
  urgency: string;
  topic?: string;
  /** The application server key (VAPID public key, base64url) and the JWT claims it signed. */
  vapid: { publicKey: string; aud: string; sub: string; exp: number };
}

export interface SubscriptionJSON {
  endpoint: string;
  expirationTime: null;
  keys: { p256dh: string; auth: string };
}

export interface WebPushEmulatorOptions {
  /**
   * The VAPID public key (base64url) new subscriptions are bound to, as a browser binds one to the
   * `applicationServerKey` it subscribed with: pushes signed by another key get 403. Default: none, any
   * correctly signed key is accepted.
   */
  applicationServerKey?: string;
  /**
   * Decrypt and keep accepted pushes in `received`. Default true. With false, a push is checked up to its
   * content header and counted in `accepted`, not decrypted: a real push service cannot decrypt either
   * (only the browser holds the keys). Benchmarks turn it off.
   */
  record?: boolean;
}

export interface WebPushEmulator {
  /** https://127.0.0.1:PORT */
  url: string;
  received: ReceivedPush[];
  /** Pushes accepted since start (or reset), recorded or not. */
  accepted: number;
  requests: number;
  /** TLS connections accepted (keep-alive shows as fewer connections than requests). */
  connections: number;
  /** A new subscription, as a browser's PushSubscription.toJSON(). */
  createSubscription(options?: { applicationServerKey?: string }): SubscriptionJSON;
  /** Later pushes to it get 410 Gone, as after the user revoked permission. */
  unsubscribe(endpointOrId: string): void;
  /** The next pushes to this subscription (endpoint or id) get these errors in order, then success again. */
  fail(endpointOrId: string, responses: WebPushErrorSpec[]): void;
  /** Every push to this subscription gets this error until reset(). */
  failAlways(endpointOrId: string, spec: WebPushErrorSpec): void;
  reset(): void;
  close(): Promise<void>;
}

interface Subscription {
  id: string;
  ecdh: ECDH;
  publicKey: Buffer;
  auth: Buffer;
  applicationServerKey?: string;
  active: boolean;
}

const MAX_BODY = 4096;
const URGENCIES = new Set(['very-low', 'low', 'normal', 'high']);
const TOPIC = /^[A-Za-z0-9_-]{1,32}$/;
const MAX_JWT_LIFETIME_S = 24 * 60 * 60;

class PushError extends Error {
  constructor(readonly status: number, readonly errno: number, readonly reason: string, message: string) {
    super(message);
  }
}

function idOf(endpointOrId: string): string {
  return endpointOrId.includes('/') ? endpointOrId.slice(endpointOrId.lastIndexOf('/') + 1) : endpointOrId;
}

/** Verifies `Authorization: vapid t=<JWT>, k=<key>` (RFC 8292); returns the key and claims. */
function verifyVapid(header: string | undefined, origin: string): ReceivedPush['vapid'] {
  const m = /^vapid\s+(.+)$/i.exec(header ?? '');
  if (!m) throw new PushError(401, 109, 'Unauthorized', 'Missing or unsupported Authorization scheme: expected "vapid t=..., k=..."');
  const params = new Map<string, string>();
  for (const part of m[1]!.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const token = params.get('t');
  const key = params.get('k');
  if (!token || !key) throw new PushError(401, 109, 'Unauthorized', 'vapid Authorization needs both t and k');
  const raw = Buffer.from(key, 'base64url');
  if (raw.length !== 65 || raw[0] !== 4) throw new PushError(401, 109, 'Unauthorized', 'k is not an uncompressed P-256 public key');
  let publicKey;
  try {
    publicKey = createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33).toString('base64url') },
      format: 'jwk',
    });
  } catch {
    throw new PushError(401, 109, 'Unauthorized', 'k is not a point on P-256');
  }
  const parts = token.split('.');
  if (parts.length !== 3) throw new PushError(401, 109, 'Unauthorized', 'malformed JWT');
  let jose: { alg?: string };
  let claims: { aud?: unknown; exp?: unknown; sub?: unknown };
  try {
    jose = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    throw new PushError(401, 109, 'Unauthorized', 'malformed JWT');
  }
  if (jose.alg !== 'ES256') throw new PushError(401, 109, 'Unauthorized', `JWT alg must be ES256, not ${jose.alg}`);
  const signature = Buffer.from(parts[2]!, 'base64url');
  const valid = signature.length === 64
    && verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  if (!valid) throw new PushError(401, 109, 'Unauthorized', 'JWT signature does not verify with k');
  const now = Math.floor(Date.now() / 1000);
  if (claims.aud !== origin) throw new PushError(401, 109, 'Unauthorized', `JWT aud must be ${origin}`);
  if (typeof claims.exp !== 'number' || claims.exp <= now) throw new PushError(401, 109, 'Unauthorized', 'JWT has expired');
  if (claims.exp > now + MAX_JWT_LIFETIME_S + 60) throw new PushError(401, 109, 'Unauthorized', 'JWT exp is more than 24 hours ahead');
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) {
    throw new PushError(401, 109, 'Unauthorized', 'JWT sub must be a mailto: or https: URL');
  }
  return { publicKey: key, aud: claims.aud, sub: claims.sub, exp: claims.exp };
}

/** The aes128gcm header (RFC 8188 section 2.1): salt, record size and the sender's public key. */
function contentHeader(body: Buffer): { salt: Buffer; rs: number; senderKey: Buffer } {
  if (body.length < 21) throw new PushError(400, 110, 'Bad Request', 'body too short for an aes128gcm header');
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  if (rs < 18 || idlen !== 65 || body.length <= 21 + idlen + 16) throw new PushError(400, 110, 'Bad Request', 'invalid aes128gcm header (rs or keyid)');
  return { salt: body.subarray(0, 16), rs, senderKey: body.subarray(21, 21 + idlen) };
}

/** Decrypts an aes128gcm body (RFC 8188) with the subscription's keys (RFC 8291). */
function decrypt(body: Buffer, sub: Subscription): Buffer {
  const { salt, rs, senderKey } = contentHeader(body);
  const idlen = senderKey.length;
  let ecdhSecret: Buffer;
  try {
    ecdhSecret = sub.ecdh.computeSecret(senderKey);
  } catch {
    throw new PushError(400, 110, 'Bad Request', 'keyid is not a valid P-256 public key');
  }
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), sub.publicKey, senderKey]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, sub.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const baseNonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const records = body.subarray(21 + idlen);
  const out: Buffer[] = [];
  for (let seq = 0, offset = 0; offset < records.length; seq++, offset += rs) {
    const record = records.subarray(offset, offset + rs);
    if (record.length <= 16) throw new PushError(400, 110, 'Bad Request', 'truncated record');
    const nonce = Buffer.from(baseNonce);
    // The record sequence number is XORed into the nonce's low-order bytes (RFC 8188 section 2.3).
    nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ seq) >>> 0, 8);
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
      decipher.setAuthTag(record.subarray(record.length - 16));
      plain = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
    } catch {
      throw new PushError(400, 110, 'Bad Request', 'payload does not decrypt with the subscription keys');
    }
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    const last = offset + rs >= records.length;
    if (end < 0 || plain[end] !== (last ? 2 : 1)) throw new PushError(400, 110, 'Bad Request', 'bad padding delimiter');
    out.push(plain.subarray(0, end));
  }
  return Buffer.concat(out);
}

export async function startWebPushEmulator(options: WebPushEmulatorOptions = {}): Promise<WebPushEmulator> {
  const subscriptions = new Map<string, Subscription>();
  const script = new FailureScript<WebPushErrorSpec>();
  const verifiedTokens = new Map<string, ReceivedPush['vapid']>();

  const server: Server = createServer({
    key: readFileSync(join(TLS_DIR, 'server-key.pem')),
    cert: readFileSync(join(TLS_DIR, 'server.pem')),
  });
  server.keepAliveTimeout = 30_000;
  server.on('secureConnection', () => { emulator.connections++; });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks), size);
      } catch (err) {
        const e = err instanceof PushError ? err : new PushError(500, 999, 'Internal Server Error', String(err));
        send(res, e.status, errorBody(e.status, e.errno, e.reason, e.message));
      }
    });
  });

  function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'Content-Type': body ? 'application/json' : 'text/plain', 'Content-Length': Buffer.byteLength(body), ...headers });
    res.end(body);
  }

  function handle(req: IncomingMessage, res: ServerResponse, body: Buffer, size: number): void {
    emulator.requests++;
    const m = /^\/push\/([A-Za-z0-9_-]+)$/.exec((req.url ?? '').split('?')[0]!);
    if (!m || req.method !== 'POST') throw new PushError(404, 102, 'Not Found', 'Request did not validate invalid token');
    const sub = subscriptions.get(m[1]!);
    if (!sub) throw new PushError(404, 102, 'Not Found', 'Request did not validate invalid token');
    if (!sub.active) throw new PushError(410, 106, 'Gone', 'Subscription has expired or been unsubscribed');
    const authorization = req.headers.authorization ?? '';
    // A JWT that verified once verifies again (clients reuse one for hours); only its expiry can change.
    let vapid = verifiedTokens.get(authorization);
    if (!vapid) {
      vapid = verifyVapid(authorization, emulator.url);
      if (verifiedTokens.size >= 1000) verifiedTokens.clear();
      verifiedTokens.set(authorization, vapid);
    } else if (vapid.exp <= Date.now() / 1000) {
      throw new PushError(401, 109, 'Unauthorized', 'JWT has expired');
    }
    if (sub.applicationServerKey && vapid.publicKey !== sub.applicationServerKey) {
      throw new PushError(403, 109, 'Forbidden', 'VAPID public key does not match the key this subscription was created with');
    }
    const scripted = script.next(sub.id);
    if (scripted) return send(res, scripted.status, scripted.body ?? '', scripted.headers);

    const ttlHeader = req.headers.ttl;
    if (typeof ttlHeader !== 'string' || !/^\d+$/.test(ttlHeader)) throw new PushError(400, 111, 'Bad Request', 'Missing or invalid TTL header');
    const urgency = (req.headers.urgency as string | undefined) ?? 'normal';
    if (!URGENCIES.has(urgency)) throw new PushError(400, 110, 'Bad Request', `invalid Urgency ${urgency}`);
    const topic = req.headers.topic as string | undefined;
    if (topic !== undefined && !TOPIC.test(topic)) throw new PushError(400, 110, 'Bad Request', 'Topic must be at most 32 URL-safe base64 characters');
    if (size > MAX_BODY) throw new PushError(413, 104, 'Payload Too Large', 'Data payload too large');
    let text: string | null = null;
    if (size > 0) {
      if (req.headers['content-encoding'] !== 'aes128gcm') throw new PushError(400, 110, 'Bad Request', 'Content-Encoding must be aes128gcm');
      if (options.record === false) contentHeader(body);
      else text = decrypt(body, sub).toString('utf8');
    }
    emulator.accepted++;
    if (options.record === false) return send(res, 201, '', { Location: `${emulator.url}/m/${randomUUID()}`, TTL: ttlHeader });
    let payload: unknown;
    try {
      payload = text === null ? undefined : JSON.parse(text);
    } catch {
      payload = undefined;
    }
    emulator.received.push({
      subscriptionId: sub.id,
      endpoint: `${emulator.url}/push/${sub.id}`,
      payload,
      text,
      ttl: Number(ttlHeader),
      urgency,
      topic,
      vapid,
    });
    send(res, 201, '', { Location: `${emulator.url}/m/${randomUUID()}`, TTL: ttlHeader });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const emulator: WebPushEmulator = {
    url: `https://127.0.0.1:${port}`,
    received: [],
    accepted: 0,
    requests: 0,
    connections: 0,
    createSubscription(subOptions = {}) {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const sub: Subscription = {
        id: randomBytes(16).toString('base64url'),
        ecdh,
        publicKey: ecdh.getPublicKey(),
        auth: randomBytes(16),
        applicationServerKey: subOptions.applicationServerKey ?? options.applicationServerKey,
        active: true,
      };
      subscriptions.set(sub.id, sub);
      return {
        endpoint: `${emulator.url}/push/${sub.id}`,
        expirationTime: null,
        keys: { p256dh: sub.publicKey.toString('base64url'), auth: sub.auth.toString('base64url') },
      };
    },
    unsubscribe(endpointOrId) {
      const sub = subscriptions.get(idOf(endpointOrId));
      if (sub) sub.active = false;
    },
    fail(endpointOrId, responses) {
      script.fail(idOf(endpointOrId), responses);
    },
    failAlways(endpointOrId, spec) {
      script.failAlways(idOf(endpointOrId), spec);
    },
    reset() {
      script.clear();
      emulator.received.length = 0;
      emulator.accepted = 0;
      emulator.requests = 0;
      emulator.connections = 0;
    },
    close: closeOnce(server),
  };
  return emulator;
}
