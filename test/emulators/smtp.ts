/**
 * A loopback SMTP submission server (smtp-server): STARTTLS with the test CA's certificate, AUTH PLAIN/LOGIN
 * only after TLS, per-recipient answers in RCPT TO, and accepted messages parsed with mailparser (or,
 * with `record: false`, only read to the end and counted, as a relay queues a message without parsing it).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { FailureScript } from './failure-script.js';

const HERE = dirname(fileURLToPath(import.meta.url));
// From test/emulators (sources) or dist/test/emulators (compiled).
const TLS_DIR = [join(HERE, '..', 'fixtures', 'tls'), join(HERE, '..', '..', '..', 'test', 'fixtures', 'tls')].find((d) => existsSync(d))!;

/**
 * One scripted answer: the reply code and text (write the enhanced status code into the text, as Postfix
 * does). `stage` picks the command that fails: RCPT TO (default) or the end of DATA.
 */
export interface SmtpErrorSpec {
  code: number;
  message: string;
  stage?: 'rcpt' | 'data';
}

/** Replies real mail servers send. */
export const smtpErrors = {
  userUnknown: (address: string): SmtpErrorSpec => ({ code: 550, message: `5.1.1 <${address}>: Recipient address rejected: User unknown in virtual mailbox table` }),
  mailboxFull: (address: string): SmtpErrorSpec => ({ code: 452, message: `4.2.2 <${address}>: Recipient address rejected: Mailbox full` }),
  greylisted: (address: string): SmtpErrorSpec => ({ code: 451, message: `4.7.1 <${address}>: Recipient address rejected: Greylisted, please try again later` }),
  spam: (): SmtpErrorSpec => ({ code: 554, message: '5.7.1 Message rejected: content looks like spam', stage: 'data' }),
  tempDataFailure: (): SmtpErrorSpec => ({ code: 451, message: '4.3.0 Error: queue file write error', stage: 'data' }),
};

/** A message the emulator accepted, decoded. Header names are lower case, values unfolded as sent. */
export interface ReceivedEmail {
  queueId: string;
  envelope: { from: string; to: string[] };
  from: string;
  to: string[];
  replyTo?: string;
  subject: string;
  text: string;
  html?: string;
  messageId?: string;
  headers: Record<string, string>;
  /** The session had been upgraded with STARTTLS. */
  secure: boolean;
  /** The authenticated user, when AUTH was used. */
  user?: string;
}

export interface SmtpEmulatorOptions {
  /** Require AUTH before MAIL FROM. Default true. */
  auth?: boolean;
  /** Default "notify". */
  username?: string;
  /** Default: random. */
  password?: string;
  /** Parse and keep accepted messages in `received`. Default true; benchmarks turn it off and read `accepted`. */
  record?: boolean;
}

export interface SmtpEmulator {
  host: string;
  port: number;
  username: string;
  password: string;
  /** smtp://user:pass@127.0.0.1:PORT (no credentials when auth is off) — set as `channels.email.smtpUrl`. */
  smtpUrl: string;
  received: ReceivedEmail[];
  /** Messages accepted since start (or reset), recorded or not. */
  accepted: number;
  /** TCP connections accepted (a pool shows as fewer connections than messages). */
  connections: number;
  /** AUTH attempts that failed. */
  authFailures: number;
  /** The next deliveries to this recipient get these answers in order, then success again. */
  fail(address: string, responses: SmtpErrorSpec[]): void;
  /** Every delivery to this recipient gets this answer until reset(). */
  failAlways(address: string, spec: SmtpErrorSpec): void;
  reset(): void;
  close(): Promise<void>;
}

function smtpError(spec: SmtpErrorSpec): Error & { responseCode: number } {
  return Object.assign(new Error(spec.message), { responseCode: spec.code });
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  if (!value) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((a) => a.value.map((v) => v.address ?? '')).filter(Boolean);
}

/** A queue id as a relay reports it in its 250 reply to DATA. */
function newQueueId(): string {
  return randomBytes(5).toString('hex').toUpperCase();
}

export async function startSmtpEmulator(options: SmtpEmulatorOptions = {}): Promise<SmtpEmulator> {
  const useAuth = options.auth ?? true;
  const username = options.username ?? 'notify';
  const password = options.password ?? randomBytes(12).toString('hex');
  const script = new FailureScript<SmtpErrorSpec>();
  // Data-stage failures chosen at RCPT time, answered at the end of DATA.
  const pendingData = new Map<string, SmtpErrorSpec>();

  const nextScripted = (address: string) => script.next(address.toLowerCase());

  const server = new SMTPServer({
    secure: false,
    key: readFileSync(join(TLS_DIR, 'server-key.pem')),
    cert: readFileSync(join(TLS_DIR, 'server.pem')),
    name: 'mx.emulator.test',
    banner: 'notify SMTP emulator',
    logger: false,
    hideENHANCEDSTATUSCODES: true,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: !useAuth,
    disabledCommands: useAuth ? [] : ['AUTH'],
    size: 25 * 1024 * 1024,
    closeTimeout: 200,
    // The greeting would otherwise wait for a reverse DNS lookup of 127.0.0.1.
    disableReverseLookup: true,
    onConnect(_session, callback) {
      emulator.connections++;
      callback();
    },
    onAuth(auth, _session, callback) {
      if (auth.username === username && auth.password === password) return callback(null, { user: username });
      emulator.authFailures++;
      return callback(Object.assign(new Error('5.7.8 Error: authentication failed: authentication failure'), { responseCode: 535 }));
    },
    onMailFrom(_address, session, callback) {
      if (!session.secure) return callback(Object.assign(new Error('5.7.0 Must issue a STARTTLS command first'), { responseCode: 530 }));
      return callback();
    },
    onRcptTo(address, session, callback) {
      const spec = nextScripted(address.address);
      if (spec?.stage === 'data') {
        pendingData.set(session.id, spec);
        return callback();
      }
      if (spec) return callback(smtpError(spec));
      return callback();
    },
    onData(stream, session: SMTPServerSession, callback) {
      const refused = () => {
        const failure = pendingData.get(session.id);
        if (failure) pendingData.delete(session.id);
        return failure;
      };
      if (options.record === false) {
        stream.on('data', () => undefined);
        stream.once('end', () => {
          const failure = refused();
          if (failure) return callback(smtpError(failure));
          emulator.accepted++;
          callback(null, `2.0.0 Ok: queued as ${newQueueId()}`);
        });
        return;
      }
      simpleParser(stream, { skipTextToHtml: true, skipImageLinks: true }).then((parsed) => {
        const failure = refused();
        if (failure) return callback(smtpError(failure));
        const headers: Record<string, string> = {};
        for (const { key, line } of parsed.headerLines) {
          const value = line.replace(/\r?\n(?=[ \t])/g, '').slice(line.indexOf(':') + 1).trim();
          headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
        }
        const queueId = newQueueId();
        emulator.accepted++;
        emulator.received.push({
          queueId,
          envelope: {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          },
          from: addresses(parsed.from)[0] ?? '',
          to: addresses(parsed.to),
          replyTo: addresses(parsed.replyTo)[0],
          subject: parsed.subject ?? '',
          text: parsed.text ?? '',
          html: typeof parsed.html === 'string' ? parsed.html : undefined,
          messageId: parsed.messageId,
          headers,
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : undefined,
        });
        callback(null, `2.0.0 Ok: queued as ${queueId}`);
      }, (err: Error) => callback(Object.assign(err, { responseCode: 451 })));
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  // A client that drops a connection mid-session is not the emulator's failure.
  server.on('error', () => undefined);
  const { port } = server.server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  const credentials = useAuth ? `${encodeURIComponent(username)}:${encodeURIComponent(password)}@` : '';

  const emulator: SmtpEmulator = {
    host: '127.0.0.1',
    port,
    username,
    password,
    smtpUrl: `smtp://${credentials}127.0.0.1:${port}`,
    received: [],
    accepted: 0,
    connections: 0,
    authFailures: 0,
    fail(address, responses) {
      script.fail(address.toLowerCase(), responses);
    },
    failAlways(address, spec) {
      script.failAlways(address.toLowerCase(), spec);
    },
    reset() {
      script.clear();
      pendingData.clear();
      emulator.received.length = 0;
      emulator.accepted = 0;
      emulator.connections = 0;
      emulator.authFailures = 0;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Pooled clients keep connections open: tell them now instead of waiting for the grace period.
        for (const connection of server.connections) {
          connection.send(421, '4.3.2 Service shutting down');
          connection.close();
        }
      });
      return closed;
    },
  };
  return emulator;
}
