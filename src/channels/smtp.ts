/**
 * Email over SMTP with nodemailer's connection pool. STARTTLS is used whenever the server offers it and
 * certificates are always verified (system CAs plus NODE_EXTRA_CA_CERTS).
 */
import { connect } from 'node:net';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import { NETWORK_ERROR_CODES, abortable } from './network.js';
import { DeliveryError, type AdapterContext, type ChannelAdapter, type OutboundMessage, type SendResult } from './types.js';
import { LANE_DEFAULTS } from './index.js';

type EmailConfig = Config['channels']['email'];

/** What nodemailer puts on its errors. */
export interface SmtpErrorInfo {
  /** nodemailer's error code: EAUTH, EENVELOPE, EMESSAGE, ECONNECTION, ETIMEDOUT, ESOCKET, ETLS, EDNS, ... */
  code?: string;
  /** The server's reply code, e.g. 550. */
  responseCode?: number;
  /** The SMTP command that failed: 'RCPT TO', 'MAIL FROM', 'DATA', 'AUTH PLAIN', 'CONN', ... */
  command?: string;
  /** The server's full reply line. */
  response?: string;
  message?: string;
}

/** nodemailer's own codes for a lost or failed connection; OS socket codes come from ./network.js. */
const NODEMAILER_CONNECTION_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'EPROTOCOL']);

/**
 * The SMTP error table:
 * - auth failures (EAUTH, 530 "authentication required") -> permanent, alert
 * - 4xx at any stage -> retryable
 * - 5xx on RCPT TO -> invalid-address (the daemon suppresses the address as bounced), except 5.7.x policy
 *   refusals (relaying denied, sender blocked) -> permanent, alert
 * - 5xx on MAIL FROM -> permanent, alert (our sender is refused)
 * - 5xx on DATA -> permanent (this message is refused)
 * - connection errors and timeouts -> retryable; TLS failures -> retryable, alert
 */
export function classifySmtpError(err: SmtpErrorInfo): DeliveryError {
  const reply = err.responseCode;
  const id = reply ? String(reply) : err.code ?? 'SMTP';
  const text = `SMTP ${err.command ? `${err.command} ` : ''}failed: ${err.response ?? err.message ?? 'unknown error'}`;
  if (err.code === 'EAUTH' || reply === 530 || reply === 535 || reply === 534) {
    return new DeliveryError('permanent', id, `${text} (check channels.email.smtpUrl credentials)`, { action: 'alert' });
  }
  if (reply && reply >= 400 && reply < 500) return new DeliveryError('retryable', id, text);
  if (reply && reply >= 500) {
    if (err.command === 'RCPT TO') {
      // 5.7.x is policy (relaying denied, our IP blocked), not a dead mailbox: someone has to look.
      if (/^5\d\d[ -]5\.7\.\d+/.test(err.response ?? '')) return new DeliveryError('permanent', id, text, { action: 'alert' });
      return new DeliveryError('invalid-address', id, text);
    }
    if (err.command === 'MAIL FROM') return new DeliveryError('permanent', id, `${text} (check channels.email.from)`, { action: 'alert' });
    return new DeliveryError('permanent', id, text);
  }
  if (err.code === 'ETLS') return new DeliveryError('retryable', id, `${text} (check the server's certificate and trusted CAs)`, { action: 'alert' });
  if (err.code && (NODEMAILER_CONNECTION_CODES.has(err.code) || NETWORK_ERROR_CODES.has(err.code))) return new DeliveryError('retryable', id, text);
  // Nodemailer's own checks: a malformed recipient never becomes deliverable; a malformed message never sends.
  if (err.code === 'EENVELOPE') return new DeliveryError('invalid-address', id, text);
  if (err.code === 'EMESSAGE') return new DeliveryError('permanent', id, text);
  return new DeliveryError('retryable', id, text);
}

/** URL query keys passed through to nodemailer; anything touching TLS verification is refused. */
const NUMBER_KEYS = new Set(['connectionTimeout', 'greetingTimeout', 'socketTimeout', 'maxMessages', 'rateDelta', 'rateLimit']);
const BOOLEAN_KEYS = new Set(['requireTLS', 'ignoreTLS']);

/** nodemailer pool options from `channels.email.smtpUrl`; throws ConfigError for a bad URL or option. */
export function transportOptions(smtpUrl: string, maxConnections: number): SMTPPool.Options {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    throw new ConfigError('channels.email.smtpUrl is not a URL: run "notify config set channels.email.smtpUrl smtp://user:pass@smtp.example.com:587"');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new ConfigError(`channels.email.smtpUrl must start with smtp:// or smtps://, not ${url.protocol}//`);
  }
  const options: SMTPPool.Options = {
    pool: true,
    maxConnections,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    secure: url.protocol === 'smtps:',
    socketTimeout: 60_000,
  };
  if (url.port) options.port = Number(url.port);
  if (url.username) options.auth = { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) };
  for (const [key, value] of url.searchParams) {
    if (NUMBER_KEYS.has(key) && /^\d+$/.test(value)) (options as unknown as Record<string, unknown>)[key] = Number(value);
    else if (BOOLEAN_KEYS.has(key) && /^(true|false)$/.test(value)) (options as unknown as Record<string, unknown>)[key] = value === 'true';
    else if (key === 'name') options.name = value;
    else throw new ConfigError(`channels.email.smtpUrl: unsupported option "${key}=${value}" (supported: name, ${[...BOOLEAN_KEYS, ...NUMBER_KEYS].join(', ')}; certificate checks cannot be turned off)`);
  }
  return options;
}

/** Message-ID local parts allow dot-atom text; keep it to a plainly safe subset. */
function messageIdFor(message: OutboundMessage, from: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'notify.invalid';
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '-');
  // Stable across retries of one delivery, so receivers can recognise a repeat.
  return `<notify.${safe(message.notificationId)}.${message.deliveryId}@${domain}>`;
}

function providerIdFrom(response: string | undefined, messageId: string): string {
  if (!response) return messageId;
  const queued = /queued as ([^\s>]+)/i.exec(response);
  if (queued) return queued[1]!;
  const text = response.replace(/^2\d\d[ -](\d\.\d+\.\d+ )?/, '').trim();
  return text || messageId;
}


export async function createSmtpAdapter(config: EmailConfig, ctx: AdapterContext): Promise<ChannelAdapter> {
  if (!config.smtpUrl) throw new ConfigError('channels.email.smtpUrl is not set: run "notify config set channels.email.smtpUrl smtp://user:pass@smtp.example.com:587"');
  if (!config.from) throw new ConfigError('channels.email.from is not set: run "notify config set channels.email.from \'Acme <notify@acme.example>\'"');
  const from = config.from;
  // One connection per send the lane lets run at once: with fewer (nodemailer's default is 5), sends
  // wait for a free connection, and each message costs a handful of round trips on it.
  const options = transportOptions(config.smtpUrl, config.pool ?? config.concurrency ?? LANE_DEFAULTS.email.concurrency);
  if (options.ignoreTLS && !options.secure && options.host !== '127.0.0.1' && options.host !== 'localhost') {
    ctx.warn('channels.email.smtpUrl has ignoreTLS=true: mail to a remote server is sent without encryption');
  }
  // nodemailer writes a message's last line and the final "." separately; with Nagle on, every message then
  // waits for the server's delayed ACK (~40 ms). So the pool gets its TCP connections from here, with Nagle
  // off; nodemailer still does the SMTP greeting, STARTTLS or implicit TLS, and certificate checks itself.
  const host = options.host!;
  const port = options.port ?? (options.secure ? 465 : 587);
  const connectTimeout = options.connectionTimeout ?? 30_000;
  options.getSocket = (_opts, callback) => {
    const socket = connect({ host, port, noDelay: true });
    const fail = (err: Error) => {
      clearTimeout(timer);
      callback(err, false);
    };
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`connection to ${host}:${port} timed out`), { code: 'ETIMEDOUT' })), connectTimeout);
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', fail);
      callback(null, { connection: socket });
    });
  };
  const transporter = nodemailer.createTransport(options);
  // The pool reports connection failures on each sendMail too; this only keeps a stray 'error' from crashing.
  transporter.on('error', () => undefined);
  let closed = false;

  return {
    name: 'smtp',
    async send(message: OutboundMessage, sendOptions: { signal?: AbortSignal } = {}): Promise<SendResult> {
      if (message.channel !== 'email') throw new DeliveryError('permanent', 'WRONG_CHANNEL', `the smtp adapter cannot send ${message.channel} messages`);
      if (closed) throw new DeliveryError('retryable', 'CLOSED', 'the smtp adapter is closed');
      if (sendOptions.signal?.aborted) throw new DeliveryError('retryable', 'ABORTED', 'SMTP send aborted');
      const messageId = messageIdFor(message, from);
      try {
        // Composed into one buffer first, then sent raw: streamed, each of the message's many small chunks was
        // its own TLS record and write() on the socket (a quarter of an email's CPU in a profile).
        const mime = new MailComposer({
          from,
          ...(config.replyTo ? { replyTo: config.replyTo } : {}),
          to: message.to,
          subject: message.content.subject,
          text: message.content.text,
          ...(message.content.html !== undefined ? { html: message.content.html } : {}),
          ...(message.headers ? { headers: message.headers } : {}),
          messageId,
        }).compile();
        const envelope = mime.getEnvelope();
        const raw = await mime.build();
        // messageId again, or nodemailer makes one up for the raw message (five more random draws, unused).
        const info: SMTPPool.SentMessageInfo = await abortable(transporter.sendMail({ envelope, raw, messageId }), sendOptions.signal, 'SMTP');
        return { providerId: providerIdFrom(info.response, messageId) };
      } catch (err) {
        if (err instanceof DeliveryError) throw err;
        throw classifySmtpError(err as SmtpErrorInfo);
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      transporter.close();
    },
  };
}
