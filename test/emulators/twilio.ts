/**
 * A loopback Twilio Programmable Messaging API: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` (and
 * `GET /2010-04-01/Accounts/{AccountSid}.json`, the account resource) over
 * HTTPS (the test CA's certificate), HTTP Basic auth with the account SID and auth token, form-encoded
 * parameters, and Twilio's real JSON resources and error bodies.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FailureScript } from './failure-script.js';
import { closeOnce } from './close.js';

const HERE = dirname(fileURLToPath(import.meta.url));
// From test/emulators (sources) or dist/test/emulators (compiled).
const TLS_DIR = [join(HERE, '..', 'fixtures', 'tls'), join(HERE, '..', '..', '..', 'test', 'fixtures', 'tls')].find((d) => existsSync(d))!;

/** One scripted failure: Twilio's error body `{code, message, more_info, status}` with this HTTP status. */
export interface TwilioErrorSpec {
  status: number;
  /** Twilio's error code, e.g. 21211. */
  code?: number;
  message?: string;
  headers?: Record<string, string>;
}

/** Twilio's own errors, with the bodies the real API sends. */
export const twilioErrors = {
  invalidTo: (to: string): TwilioErrorSpec => ({ status: 400, code: 21211, message: `The 'To' number ${to} is not a valid phone number.` }),
  unsubscribed: (): TwilioErrorSpec => ({ status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' }),
  tooManyRequests: (retryAfterSeconds?: number): TwilioErrorSpec => ({
    status: 429, code: 20429, message: 'Too Many Requests',
    headers: retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(retryAfterSeconds) },
  }),
  internal: (): TwilioErrorSpec => ({ status: 500, code: 20500, message: 'An internal server error has occurred' }),
  unavailable: (): TwilioErrorSpec => ({ status: 503, code: 20503, message: 'Service unavailable' }),
};

/** A message the emulator accepted, as decoded from the request. */
export interface ReceivedSms {
  sid: string;
  accountSid: string;
  to: string;
  from?: string;
  messagingServiceSid?: string;
  body: string;
  statusCallback?: string;
  numSegments: number;
}

export interface TwilioEmulatorOptions {
  /** Default: a random `AC` + 32 hex. */
  accountSid?: string;
  /** Default: 32 random hex. */
  authToken?: string;
}

export interface TwilioEmulator {
  /** https://127.0.0.1:PORT — set as `channels.sms.endpoint`. */
  url: string;
  accountSid: string;
  authToken: string;
  received: ReceivedSms[];
  /** Every request seen, accepted or not. */
  requests: number;
  /** TLS connections accepted (keep-alive shows as fewer connections than requests). */
  connections: number;
  /** The next requests to this `To` number get these errors in order, then success again. */
  fail(to: string, responses: TwilioErrorSpec[]): void;
  /** Every request to this `To` number gets this error until reset(). */
  failAlways(to: string, spec: TwilioErrorSpec): void;
  reset(): void;
  close(): Promise<void>;
}

const E164 = /^\+[1-9]\d{1,14}$/;
const GSM7 = /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà^{}\\[~\]|€]*$/;

/** Segments as Twilio counts them: GSM-7 160/153 per part, UCS-2 70/67. */
function countSegments(body: string): number {
  const gsm = GSM7.test(body);
  const len = gsm ? body.length : [...body].length;
  const single = gsm ? 160 : 70;
  const multi = gsm ? 153 : 67;
  return len <= single ? 1 : Math.ceil(len / multi);
}

/** Twilio's resource timestamps: RFC 2822 with +0000. */
function rfc2822(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

export async function startTwilioEmulator(options: TwilioEmulatorOptions = {}): Promise<TwilioEmulator> {
  const accountSid = options.accountSid ?? `AC${randomBytes(16).toString('hex')}`;
  const authToken = options.authToken ?? randomBytes(16).toString('hex');
  const created = new Date();
  const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
  const script = new FailureScript<TwilioErrorSpec>();

  const server: Server = createServer({
    key: readFileSync(join(TLS_DIR, 'server-key.pem')),
    cert: readFileSync(join(TLS_DIR, 'server.pem')),
  });
  server.keepAliveTimeout = 30_000;
  server.on('secureConnection', () => { emulator.connections++; });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });

  function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      'Twilio-Request-Id': `RQ${randomBytes(16).toString('hex')}`,
      ...headers,
    });
    res.end(text);
  }

  function sendError(res: ServerResponse, spec: TwilioErrorSpec): void {
    const code = spec.code ?? spec.status;
    sendJson(res, spec.status, {
      code,
      message: spec.message ?? 'Error',
      more_info: `https://www.twilio.com/docs/errors/${code}`,
      status: spec.status,
    }, spec.headers);
  }

  /** `GET /2010-04-01/Accounts/{AccountSid}.json`: the account resource (what `notify doctor` fetches). */
  function handleAccount(req: IncomingMessage, res: ServerResponse, sid: string): void {
    if (req.method !== 'GET') return sendError(res, { status: 405, code: 20004, message: 'Method not allowed' });
    if (req.headers.authorization !== expectedAuth || sid !== accountSid) {
      return sendError(res, { status: 401, code: 20003, message: 'Authenticate', headers: { 'WWW-Authenticate': 'Basic realm="Twilio API"' } });
    }
    const now = rfc2822(created);
    sendJson(res, 200, {
      auth_token: authToken,
      date_created: now,
      date_updated: now,
      friendly_name: 'notify emulator',
      owner_account_sid: accountSid,
      sid: accountSid,
      status: 'active',
      subresource_uris: { messages: `/2010-04-01/Accounts/${accountSid}/Messages.json` },
      type: 'Full',
      uri: `/2010-04-01/Accounts/${accountSid}.json`,
    });
  }

  function handle(req: IncomingMessage, res: ServerResponse, text: string): void {
    emulator.requests++;
    const path = (req.url ?? '').split('?')[0]!;
    const account = /^\/2010-04-01\/Accounts\/([^/]+)\.json$/.exec(path);
    if (account) return handleAccount(req, res, account[1]!);
    const m = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(path);
    if (!m) {
      sendError(res, { status: 404, code: 20404, message: `The requested resource ${path} was not found` });
      return;
    }
    if (req.method !== 'POST') {
      sendError(res, { status: 405, code: 20004, message: 'Method not allowed' });
      return;
    }
    // Twilio answers 401 / 20003 both for a wrong token and for an account SID that is not the caller's.
    if (req.headers.authorization !== expectedAuth || m[1] !== accountSid) {
      sendError(res, { status: 401, code: 20003, message: 'Authenticate', headers: { 'WWW-Authenticate': 'Basic realm="Twilio API"' } });
      return;
    }
    const form = new URLSearchParams(text);
    const to = form.get('To') ?? '';
    const spec = script.next(to);
    if (spec) {
      sendError(res, spec);
      return;
    }
    const from = form.get('From') ?? undefined;
    const messagingServiceSid = form.get('MessagingServiceSid') ?? undefined;
    const body = form.get('Body') ?? '';
    if (!to) return sendError(res, { status: 400, code: 21604, message: "A 'To' phone number is required." });
    if (!from && !messagingServiceSid) return sendError(res, { status: 400, code: 21603, message: "A 'From' phone number is required." });
    if (!body) return sendError(res, { status: 400, code: 21602, message: 'Message body is required.' });
    if (!E164.test(to)) return sendError(res, twilioErrors.invalidTo(to));
    if ([...body].length > 1600) return sendError(res, { status: 400, code: 21617, message: 'The concatenated message body exceeds the 1600 character limit.' });

    const sid = `SM${randomBytes(16).toString('hex')}`;
    const numSegments = countSegments(body);
    const statusCallback = form.get('StatusCallback') ?? undefined;
    emulator.received.push({ sid, accountSid, to, from, messagingServiceSid, body, statusCallback, numSegments });
    const now = rfc2822(new Date());
    const uri = `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`;
    sendJson(res, 201, {
      account_sid: accountSid,
      api_version: '2010-04-01',
      body,
      date_created: now,
      date_sent: null,
      date_updated: now,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: from ?? null,
      messaging_service_sid: messagingServiceSid ?? null,
      num_media: '0',
      num_segments: String(numSegments),
      price: null,
      price_unit: 'USD',
      sid,
      status: from ? 'queued' : 'accepted',
      subresource_uris: { media: uri.replace(/\.json$/, '/Media.json') },
      to,
      uri,
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const emulator: TwilioEmulator = {
    url: `https://127.0.0.1:${port}`,
    accountSid,
    authToken,
    received: [],
    requests: 0,
    connections: 0,
    fail(to, responses) {
      script.fail(to, responses);
    },
    failAlways(to, spec) {
      script.failAlways(to, spec);
    },
    reset() {
      script.clear();
      emulator.received.length = 0;
      emulator.requests = 0;
      emulator.connections = 0;
    },
    close: closeOnce(server),
  };
  return emulator;
}
