/**
 * A loopback FCM HTTP v1 with its own Google OAuth token endpoint, over HTTPS (HTTP/1.1 keep-alive).
 *
 * - `POST /token`: the service-account JWT-bearer grant. The RS256 assertion must verify against the
 *   service account's key, with iss = client_email and aud = token_uri; answers an access token.
 * - `POST /v1/projects/{projectId}/messages:send`: needs `Authorization: Bearer <issued token>`, checks
 *   the message like FCM does, answers `{ name }` or FCM's real error bodies.
 *
 * It writes a service account JSON file whose token_uri points here, so a client is configured
 * exactly as for Google: `serviceAccountFile = serviceAccountPath`, `endpoint = url`.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createPublicKey, generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { FailureScript } from './failure-script.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The fixtures, whether this runs compiled (dist/test/emulators) or from source. */
const TLS_DIR = [join(HERE, '..', 'fixtures', 'tls'), join(HERE, '..', '..', '..', 'test', 'fixtures', 'tls')].find((d) => existsSync(d))!;

/** FCM's errorCode values with the HTTP status and canonical status they come with. */
export const FCM_ERRORS = {
  UNREGISTERED: { code: 404, status: 'NOT_FOUND', message: 'Requested entity was not found.' },
  INVALID_ARGUMENT: { code: 400, status: 'INVALID_ARGUMENT', message: 'Request contains an invalid argument.' },
  SENDER_ID_MISMATCH: { code: 403, status: 'PERMISSION_DENIED', message: 'SenderId mismatch' },
  QUOTA_EXCEEDED: { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'Quota exceeded for this device.' },
  UNAVAILABLE: { code: 503, status: 'UNAVAILABLE', message: 'The service is currently unavailable.' },
  INTERNAL: { code: 500, status: 'INTERNAL', message: 'Internal error encountered.' },
  THIRD_PARTY_AUTH_ERROR: { code: 401, status: 'UNAUTHENTICATED', message: 'Auth error from APNS or Web Push Service' },
} as const;
export type FcmErrorCode = keyof typeof FCM_ERRORS;

/** A scripted answer: an FCM errorCode, optionally with a Retry-After (seconds; QUOTA_EXCEEDED sends 30 by default). */
export type FcmErrorSpec = FcmErrorCode | { errorCode: FcmErrorCode; retryAfter?: number };

export interface FcmReceived {
  token: string;
  /** The decoded `message` object as FCM received it (android.ttl as "Ns", data values strings). */
  message: Record<string, any>;
  /** The message name answered. */
  name: string;
}

export interface FcmEmulatorOptions {
  /** Default `notify-test`. */
  projectId?: string;
  /** Access token lifetime in seconds. Default 3600. */
  tokenLifetimeS?: number;
  /** Keep accepted messages in `received`. Turn off for long benchmarks; `accepted` still counts. Default true. */
  record?: boolean;
  /** Delay every send answer by this many ms (benchmarks of slow providers). Default 0. */
  delayMs?: number;
}

export interface FcmEmulator {
  /** https://127.0.0.1:PORT — use as `channels.fcm.endpoint`. */
  url: string;
  projectId: string;
  /** A service account JSON file (0600) whose token_uri is `<url>/token`. */
  serviceAccountPath: string;
  clientEmail: string;
  /** Messages accepted since start (or reset), recorded or not. */
  readonly accepted: number;
  /** Accepted messages, in arrival order. */
  received: FcmReceived[];
  /** Access tokens issued by `/token`. */
  readonly tokensIssued: number;
  /** Requests to `/token` (granted or not). */
  readonly tokenRequests: number;
  /** Requests to `messages:send` (accepted or not). */
  readonly sendRequests: number;
  /** TCP connections accepted since start (or reset). */
  readonly connections: number;
  fail(token: string, responses: FcmErrorSpec[]): void;
  failAlways(token: string, spec: FcmErrorSpec): void;
  reset(): void;
  close(): Promise<void>;
}

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SCOPES = new Set(['https://www.googleapis.com/auth/firebase.messaging', 'https://www.googleapis.com/auth/cloud-platform']);
const UNAUTHENTICATED = {
  error: {
    code: 401,
    message: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    status: 'UNAUTHENTICATED',
  },
};

export async function startFcmEmulator(options: FcmEmulatorOptions = {}): Promise<FcmEmulator> {
  const projectId = options.projectId ?? 'notify-test';
  const lifetime = options.tokenLifetimeS ?? 3600;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicKey = createPublicKey(privateKey);
  const privateKeyId = randomBytes(20).toString('hex');
  const clientEmail = `firebase-adminsdk-test@${projectId}.iam.gserviceaccount.com`;
  const dir = mkdtempSync(join(tmpdir(), 'fcm-emulator-'));
  const serviceAccountPath = join(dir, 'service-account.json');

  const received: FcmReceived[] = [];
  const script = new FailureScript<FcmErrorSpec>();
  /** access token -> expiry (epoch ms) */
  const issued = new Map<string, number>();
  const sockets = new Set<Socket>();
  let tokensIssued = 0;
  let tokenRequests = 0;
  let accepted = 0;
  let sendRequests = 0;
  let connections = 0;
  let messageSeq = 0;

  const server: Server = createServer({
    cert: readFileSync(join(TLS_DIR, 'server.pem')),
    key: readFileSync(join(TLS_DIR, 'server-key.pem')),
    keepAliveTimeout: 30_000,
  });
  server.on('secureConnection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'POST' && req.url === '/token') {
        tokenRequests++;
        return handleToken(body, res);
      }
      const m = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(req.url ?? '');
      if (req.method === 'POST' && m) {
        sendRequests++;
        const answer = () => handleSend(m[1]!, req, body, res);
        if (options.delayMs) setTimeout(answer, options.delayMs); else answer();
        return;
      }
      sendJson(res, 404, { error: { code: 404, message: `The requested URL ${req.url} was not found on this server.`, status: 'NOT_FOUND' } });
    });
  });

  function handleToken(body: string, res: ServerResponse): void {
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== JWT_BEARER) {
      return sendJson(res, 400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type: ' + (form.get('grant_type') ?? '') });
    }
    const problem = checkAssertion(form.get('assertion') ?? '');
    if (problem) return sendJson(res, 400, { error: 'invalid_grant', error_description: problem });
    const accessToken = `ya29.emulator-${randomBytes(24).toString('base64url')}`;
    issued.set(accessToken, Date.now() + lifetime * 1000);
    tokensIssued++;
    sendJson(res, 200, { access_token: accessToken, expires_in: lifetime, token_type: 'Bearer' });
  }

  /** Google's checks on a service-account assertion; returns the error_description, or undefined. */
  function checkAssertion(assertion: string): string | undefined {
    const parsed = verifyRs256(assertion, publicKey);
    if (!parsed) return 'Invalid JWT Signature.';
    const { header, payload } = parsed;
    if (header.alg !== 'RS256') return 'Invalid JWT: unsupported algorithm.';
    if (header.kid !== undefined && header.kid !== privateKeyId) return 'Invalid JWT Signature.';
    if (payload.iss !== clientEmail) return 'Invalid JWT: iss is not the service account.';
    if (payload.aud !== `${url}/token`) return 'Invalid JWT: Failed audience check.';
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    if (!scopes.some((s) => SCOPES.has(s))) return 'Invalid JWT: missing or unsupported scope.';
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.iat !== 'number' || typeof payload.exp !== 'number') return 'Invalid JWT: iat and exp are required.';
    if (payload.exp <= now || payload.iat > now + 60 || payload.exp - payload.iat > 3600) {
      return 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.';
    }
    return undefined;
  }

  function handleSend(project: string, req: IncomingMessage, body: string, res: ServerResponse): void {
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const expires = auth ? issued.get(auth[1]!) : undefined;
    if (expires === undefined || expires <= Date.now()) return sendJson(res, 401, UNAUTHENTICATED);
    if (project !== projectId) {
      return sendJson(res, 403, { error: { code: 403, message: `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${project}' (or it may not exist).`, status: 'PERMISSION_DENIED' } });
    }
    let request: { message?: Record<string, any> };
    try {
      request = JSON.parse(body) as { message?: Record<string, any> };
    } catch {
      return invalid(res, 'Invalid JSON payload received.');
    }
    const message = request.message;
    if (!message || typeof message !== 'object') return invalid(res, 'Request contains an invalid argument.');
    if (typeof message.token !== 'string' || message.token === '') return invalid(res, 'Recipient of the message is not set.');
    if (message.data !== undefined) {
      for (const [k, v] of Object.entries(message.data as Record<string, unknown>)) {
        if (typeof v !== 'string') return invalid(res, `Invalid value at 'message.data[${k}].value' (TYPE_STRING)`);
      }
    }
    const ttl = message.android?.ttl;
    if (ttl !== undefined && !(typeof ttl === 'string' && /^\d+(\.\d{1,9})?s$/.test(ttl))) {
      return invalid(res, "Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration)");
    }
    const priority = message.android?.priority;
    if (priority !== undefined && !['normal', 'high', 'NORMAL', 'HIGH'].includes(priority)) {
      return invalid(res, "Invalid value at 'message.android.priority'");
    }
    const token = message.token as string;
    const spec = script.next(token);
    if (spec) return sendFcmError(res, spec);
    const name = `projects/${projectId}/messages/${Date.now().toString(36)}${(messageSeq++).toString(36)}`;
    accepted++;
    if (options.record !== false) received.push({ token, message, name });
    sendJson(res, 200, { name });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  writeFileSync(serviceAccountPath, JSON.stringify({
    type: 'service_account',
    project_id: projectId,
    private_key_id: privateKeyId,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    client_email: clientEmail,
    client_id: String(100000000000000000000n + BigInt(randomBytes(6).readUIntBE(0, 6))),
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: `${url}/token`,
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(clientEmail)}`,
    universe_domain: 'googleapis.com',
  }, null, 2), { mode: 0o600 });

  let closing: Promise<void> | undefined;
  return {
    url, projectId, serviceAccountPath, clientEmail, received,
    get accepted() { return accepted; },
    get tokensIssued() { return tokensIssued; },
    get tokenRequests() { return tokenRequests; },
    get sendRequests() { return sendRequests; },
    get connections() { return connections; },
    fail(token, responses) { script.fail(token, responses); },
    failAlways(token, spec) { script.failAlways(token, spec); },
    reset() {
      received.length = 0;
      accepted = 0;
      script.clear();
      tokensIssued = 0;
      tokenRequests = 0;
      sendRequests = 0;
      connections = 0;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections would hold close() open until the client lets go.
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      }).finally(() => rmSync(dir, { recursive: true, force: true }));
      return closing;
    },
  };
}

function sendFcmError(res: ServerResponse, spec: FcmErrorSpec): void {
  const s = typeof spec === 'string' ? { errorCode: spec } : spec;
  const e = FCM_ERRORS[s.errorCode];
  const headers: Record<string, string> = {};
  const retryAfter = s.retryAfter ?? (s.errorCode === 'QUOTA_EXCEEDED' ? 30 : undefined);
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  sendJson(res, e.code, {
    error: {
      code: e.code,
      message: e.message,
      status: e.status,
      details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: s.errorCode }],
    },
  }, headers);
}

function invalid(res: ServerResponse, message: string): void {
  sendJson(res, 400, {
    error: {
      code: 400,
      message,
      status: 'INVALID_ARGUMENT',
      details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'INVALID_ARGUMENT' }],
    },
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function verifyRs256(jwt: string, key: KeyObject): { header: Record<string, unknown>; payload: Record<string, unknown> } | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2]!, 'base64url'));
    return ok ? { header, payload } : undefined;
  } catch {
    return undefined;
  }
}
