/**
 * Provider checks for `notify doctor`: are the credentials there and well-formed, and does the provider
 * answer — without sending anything. One exported `checkXxx(config, ctx)` per provider; each returns
 * one result per thing it looked at. Kept apart from the adapters so a check never holds a pool open
 * and the adapters stay about sending; the SDKs are loaded only by the checks that need them.
 */
import { createPrivateKey } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect as http2Connect } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { isIP } from 'node:net';
import { isAbsolute, join } from 'node:path';
import type { Config } from '../config.js';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { NotifyError } from '../errors.js';
import { networkErrorCode } from './network.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  /** What was checked, e.g. "apns key" or "email connection". */
  check: string;
  status: CheckStatus;
  detail: string;
  /** How to fix it, for warn and fail. */
  fix?: string;
}

export interface CheckContext {
  home: string;
  /** Longest wait for one network check. Default 10000 ms. */
  timeoutMs?: number;
  /** Only the local checks (files, keys, settings); nothing touches the network. */
  offline?: boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const APNS_HOSTS = { production: 'api.push.apple.com', sandbox: 'api.sandbox.push.apple.com' };
const FCM_HOST = 'fcm.googleapis.com';
const TWILIO_API = 'https://api.twilio.com';

const ok = (check: string, detail: string): CheckResult => ({ check, status: 'ok', detail });
const warn = (check: string, detail: string, fix: string): CheckResult => ({ check, status: 'warn', detail, fix });
const fail = (check: string, detail: string, fix: string): CheckResult => ({ check, status: 'fail', detail, fix });

function resolvePath(home: string, file: string): string {
  return isAbsolute(file) ? file : join(home, file);
}

/** Missing keys, as one failed result naming the first one, or undefined when all are set. */
function missing(check: string, section: string, values: Record<string, string | undefined>, examples: Record<string, string>): CheckResult | undefined {
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || value === '') {
      return fail(check, `channels.${section}.${key} is not set`, `notify config set channels.${section}.${key} ${examples[key] ?? '<value>'}`);
    }
  }
  return undefined;
}

/** A readable file, or the failed result saying why not. */
function readable(check: string, path: string, key: string, what: string): CheckResult | undefined {
  if (!existsSync(path)) return fail(check, `${key}: ${path} does not exist`, `put ${what} there, or point ${key} at it`);
  try {
    accessSync(path, constants.R_OK);
  } catch {
    return fail(check, `${key}: ${path} is not readable by this user`, `chmod 600 ${path} and chown it to the user running notify`);
  }
  return undefined;
}

function timeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(Object.assign(new Error(`${what}: no answer in ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
    work.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

/** One line for a transport failure, with the fix that usually applies. */
function networkFailure(check: string, target: string, err: unknown, endpointKey: string): CheckResult {
  const code = networkErrorCode(err) ?? (err as { code?: string }).code;
  const message = (err as Error).message ?? String(err);
  if (code && /^(CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_TLS_|HOSTNAME_MISMATCH)/.test(code)) {
    return fail(check, `TLS to ${target} failed: ${message}`, `trust the server's CA (NODE_EXTRA_CA_CERTS) or fix ${endpointKey}`);
  }
  return fail(check, `cannot reach ${target}: ${message}`, `check the network, firewall or proxy, and ${endpointKey}`);
}

function hostPort(endpoint: string | undefined, defaultHost: string): { host: string; port: number; label: string } {
  if (!endpoint) return { host: defaultHost, port: 443, label: `${defaultHost}:443` };
  const url = new URL(endpoint);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : 443;
  return { host, port, label: `${host}:${port}` };
}

// ---- APNs ----------------------------------------------------------------------------------------

/** The .p8 key (an EC P-256 private key), key id, team id and topic; then a TLS + HTTP/2 session to APNs. */
export async function checkApns(config: Config['channels']['apns'], ctx: CheckContext): Promise<CheckResult[]> {
  const gap = missing('apns key', 'apns', { keyFile: config.keyFile, keyId: config.keyId, teamId: config.teamId, topic: config.topic },
    { keyFile: 'AuthKey_ABC123DEFG.p8', keyId: 'ABC123DEFG', teamId: 'TEAM123456', topic: 'com.example.app' });
  if (gap) return [gap];
  const path = resolvePath(ctx.home, config.keyFile!);
  const unreadable = readable('apns key', path, 'channels.apns.keyFile', 'the .p8 key from Apple');
  if (unreadable) return [unreadable];
  try {
    const key = createPrivateKey(readFileSync(path, 'utf8'));
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      return [fail('apns key', `${path} is a ${key.asymmetricKeyType} key, not the EC P-256 key APNs signs with`, 'download the .p8 auth key from Apple Developer (Keys)')];
    }
  } catch (err) {
    return [fail('apns key', `${path} is not a private key (${(err as Error).message})`, 'download the .p8 auth key from Apple Developer (Keys)')];
  }
  const results = [ok('apns key', `${path}: EC P-256 key ${config.keyId}, team ${config.teamId}, topic ${config.topic}`)];
  if (ctx.offline) return results;
  let target: { host: string; port: number; label: string };
  try {
    target = hostPort(config.endpoint, config.production ? APNS_HOSTS.production : APNS_HOSTS.sandbox);
  } catch {
    return [...results, fail('apns connection', `channels.apns.endpoint ${config.endpoint} is not a URL`, 'notify config set channels.apns.endpoint https://host:port (or unset it)')];
  }
  try {
    await timeout(new Promise<void>((resolve, reject) => {
      const session = http2Connect(`https://${isIP(target.host) === 6 ? `[${target.host}]` : target.host}:${target.port}`);
      session.once('connect', () => {
        session.close();
        resolve();
      });
      session.once('error', (err) => {
        session.destroy();
        reject(err);
      });
    }), ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS, `APNs ${target.label}`);
    results.push(ok('apns connection', `TLS and HTTP/2 session with ${target.label} (${config.production ? 'production' : 'sandbox'})`));
  } catch (err) {
    results.push(networkFailure('apns connection', target.label, err, 'channels.apns.endpoint'));
  }
  return results;
}

// ---- FCM -----------------------------------------------------------------------------------------

/** The service account file; an access token from its token_uri; a TLS connection to the FCM host. */
export async function checkFcm(config: Config['channels']['fcm'], ctx: CheckContext): Promise<CheckResult[]> {
  const gap = missing('fcm service account', 'fcm', { serviceAccountFile: config.serviceAccountFile }, { serviceAccountFile: 'service-account.json' });
  if (gap) return [gap];
  const path = resolvePath(ctx.home, config.serviceAccountFile!);
  const unreadable = readable('fcm service account', path, 'channels.fcm.serviceAccountFile', 'the service account key from the Firebase console');
  if (unreadable) return [unreadable];
  const { parseServiceAccount, ServiceAccountCredential, TokenError } = await import('./fcm-credential.js');
  let account;
  try {
    account = parseServiceAccount(readFileSync(path, 'utf8'));
  } catch (err) {
    return [fail('fcm service account', `${path}: ${(err as Error).message}`, 'download a new service account key (Firebase console → Project settings → Service accounts)')];
  }
  const results = [ok('fcm service account', `${path}: ${account.clientEmail}, project ${account.projectId}`)];
  if (ctx.offline) return results;
  try {
    await timeout(new ServiceAccountCredential(account).getAccessToken(), ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS, `token endpoint ${account.tokenUri}`);
    results.push(ok('fcm token', `access token granted by ${account.tokenUri}`));
  } catch (err) {
    if (err instanceof TokenError && !err.transient && err.status !== undefined) {
      results.push(fail('fcm token', err.message, 'the key was revoked or the account disabled: create a new key in the Firebase console'));
    } else {
      results.push(networkFailure('fcm token', account.tokenUri, err, 'token_uri in the service account file'));
    }
  }
  let target: { host: string; port: number; label: string };
  try {
    target = hostPort(config.endpoint, FCM_HOST);
  } catch {
    return [...results, fail('fcm connection', `channels.fcm.endpoint ${config.endpoint} is not a URL`, 'notify config set channels.fcm.endpoint https://host:port (or unset it)')];
  }
  try {
    await timeout(new Promise<void>((resolve, reject) => {
      const socket = tlsConnect({ host: target.host, port: target.port, ...(isIP(target.host) ? {} : { servername: target.host }), ALPNProtocols: ['http/1.1'] });
      socket.once('secureConnect', () => {
        socket.end();
        resolve();
      });
      socket.once('error', (err) => {
        socket.destroy();
        reject(err);
      });
    }), ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS, `FCM ${target.label}`);
    results.push(ok('fcm connection', `TLS connection to ${target.label}`));
  } catch (err) {
    results.push(networkFailure('fcm connection', target.label, err, 'channels.fcm.endpoint'));
  }
  return results;
}

// ---- Web push ------------------------------------------------------------------------------------

/** The VAPID pair and subject, checked as the adapter checks them (there is no one server to ask). */
export async function checkWebPush(config: Config['channels']['webpush'], ctx: CheckContext): Promise<CheckResult[]> {
  const { createWebPushAdapter } = await import('./webpush.js');
  try {
    const adapter = await createWebPushAdapter(config, { home: ctx.home, warn: () => undefined });
    await adapter.close();
  } catch (err) {
    if (!(err instanceof NotifyError)) throw err;
    const [detail, fix] = splitFix(err.message);
    return [fail('webpush keys', detail, fix ?? 'notify channels webpush-keys --save --force')];
  }
  return [ok('webpush keys', `VAPID key pair is valid; subject ${config.subject} (push services are per subscription: nothing to connect to)`)];
}

// ---- Twilio --------------------------------------------------------------------------------------

/** The account SID, auth token and sender; then GET of the account resource with those credentials. */
export async function checkTwilio(config: Config['channels']['sms'], ctx: CheckContext): Promise<CheckResult[]> {
  const gap = missing('sms credentials', 'sms', { accountSid: config.accountSid, authToken: config.authToken },
    { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: '<auth token from the Twilio console>' });
  if (gap) return [gap];
  if (!config.from && !config.messagingServiceSid) {
    return [fail('sms credentials', 'neither channels.sms.from nor channels.sms.messagingServiceSid is set', 'notify config set channels.sms.from +14155550100')];
  }
  const results = [ok('sms credentials', `account ${config.accountSid}, sending as ${config.from ?? config.messagingServiceSid}`)];
  if (ctx.offline) return results;
  let url: URL;
  try {
    const base = new URL(config.endpoint ?? TWILIO_API);
    url = new URL(`${base.origin}${base.pathname.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(config.accountSid!)}.json`);
  } catch {
    return [...results, fail('sms account', `channels.sms.endpoint ${config.endpoint} is not a URL`, 'notify config set channels.sms.endpoint https://host:port (or unset it)')];
  }
  try {
    const { status, body } = await timeout(new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(url, {
        method: 'GET',
        agent: false,
        headers: { authorization: `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString('base64')}`, accept: 'application/json' },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    }), ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS, `Twilio ${url.host}`);
    let json: { status?: string; friendly_name?: string; code?: number; message?: string } = {};
    try {
      json = JSON.parse(body) as typeof json;
    } catch {
      // Reported with the status below.
    }
    if (status === 200) {
      if (json.status && json.status !== 'active') {
        results.push(fail('sms account', `Twilio account ${config.accountSid} is ${json.status}`, 'reactivate the account in the Twilio console'));
      } else {
        results.push(ok('sms account', `Twilio accepted the credentials: account "${json.friendly_name ?? config.accountSid}" is ${json.status ?? 'active'} (${url.host})`));
      }
    } else if (status === 401 || status === 403 || status === 404) {
      results.push(fail('sms account', `Twilio refused the credentials (${status}${json.code ? ` ${json.code}` : ''}: ${json.message ?? 'no message'})`,
        'copy the Account SID and Auth Token from the Twilio console: notify config set channels.sms.authToken <token>'));
    } else {
      results.push(fail('sms account', `Twilio answered ${status}${json.message ? `: ${json.message}` : ''}`, 'try again later; see status.twilio.com'));
    }
  } catch (err) {
    results.push(networkFailure('sms account', url.host, err, 'channels.sms.endpoint'));
  }
  return results;
}

// ---- SMTP ----------------------------------------------------------------------------------------

/** smtpUrl and from; then connect, EHLO, STARTTLS and AUTH through nodemailer's verify(), sending nothing. */
export async function checkSmtp(config: Config['channels']['email'], ctx: CheckContext): Promise<CheckResult[]> {
  const gap = missing('email settings', 'email', { smtpUrl: config.smtpUrl, from: config.from },
    { smtpUrl: 'smtp://user:pass@smtp.example.com:587', from: "'Acme <notify@acme.example>'" });
  if (gap) return [gap];
  const [{ transportOptions }, { default: nodemailer }] = await Promise.all([import('./smtp.js'), import('nodemailer')]);
  let options;
  try {
    options = transportOptions(config.smtpUrl!, 1);
  } catch (err) {
    const [detail, fix] = splitFix((err as Error).message);
    return [fail('email settings', detail, fix ?? 'notify config set channels.email.smtpUrl smtp://user:pass@smtp.example.com:587')];
  }
  const port = options.port ?? (options.secure ? 465 : 587);
  const target = `${options.host}:${port}`;
  const results = [ok('email settings', `server ${target}${options.auth ? ` as ${options.auth.user}` : ' without AUTH'}, from ${config.from}`)];
  if (ctx.offline) return results;
  const limit = ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // One plain connection (not the pool) with the adapter's host, port, TLS and AUTH settings.
  const { pool: _pool, maxConnections: _max, ...single } = options;
  const transporter = nodemailer.createTransport({ ...single, connectionTimeout: limit, greetingTimeout: limit, socketTimeout: limit } as SMTPTransport.Options);
  try {
    await timeout(transporter.verify(), limit + 1000, `SMTP ${target}`);
    const how = options.secure ? 'implicit TLS' : options.ignoreTLS ? 'no TLS (ignoreTLS)' : 'STARTTLS when offered';
    results.push(ok('email connection', `connected to ${target}: EHLO, ${how}${options.auth ? ', AUTH accepted' : ''}`));
  } catch (err) {
    const e = err as { code?: string; response?: string; message?: string };
    if (e.code === 'EAUTH') {
      results.push(fail('email connection', `${target} refused the login: ${e.response ?? e.message}`, 'fix the user and password in channels.email.smtpUrl'));
    } else if (e.code === 'ETLS' || /certificate|self.signed|TLS/i.test(e.message ?? '')) {
      results.push(fail('email connection', `TLS with ${target} failed: ${e.message}`, "trust the server's CA (NODE_EXTRA_CA_CERTS) or fix the host in channels.email.smtpUrl"));
    } else if (e.response) {
      results.push(fail('email connection', `${target} answered: ${e.response}`, 'check channels.email.smtpUrl with your mail provider'));
    } else {
      results.push(networkFailure('email connection', target, err, 'the host and port in channels.email.smtpUrl'));
    }
  } finally {
    transporter.close();
  }
  return results;
}

/** Splits "what is wrong: run \"fix\"" messages into the two halves. */
function splitFix(message: string): [string, string | undefined] {
  const m = /^(.*?):\s*run "([^"]+)"/.exec(message);
  return m ? [m[1]!, m[2]!] : [message, undefined];
}
