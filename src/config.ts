/**
 * The home directory and its config.json. Every key is validated by the schema below on `set` and on
 * load. Keys with secrets are listed in SECRET_KEYS and redacted by `config show`.
 */
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, InputError } from './errors.js';

const failRule = z.object({
  /** Substring of the address or token this rule applies to; every delivery when absent. */
  address: z.string().optional(),
  /** Fail only the first N attempts of a delivery (then succeed); every attempt when absent. */
  attempts: z.number().int().positive().optional(),
  kind: z.enum(['retryable', 'rate-limited', 'permanent', 'invalid-address']).default('retryable'),
  code: z.string().default('LOG_FAIL'),
  retryAfterMs: z.number().int().nonnegative().optional(),
}).strict();

/** Shared by every provider slot: its lane and the built-in log provider. */
const laneKeys = {
  /** In-flight sends at once. */
  concurrency: z.number().int().positive().optional(),
  /** Sends per second at most (p-queue intervalCap over 1 s). */
  rateLimit: z.number().positive().optional(),
  /** The `log` provider's failure rules, for testing retries and error handling. */
  logFail: z.array(failRule).optional(),
};

const channelsSchema = z.object({
  apns: z.object({
    provider: z.enum(['log', 'apns']).default('log'),
    keyFile: z.string().optional(), keyId: z.string().optional(), teamId: z.string().optional(),
    topic: z.string().optional(), production: z.boolean().default(false), endpoint: z.string().url().optional(),
    ...laneKeys,
  }).strict().default({}),
  fcm: z.object({
    provider: z.enum(['log', 'fcm']).default('log'),
    serviceAccountFile: z.string().optional(), endpoint: z.string().url().optional(),
    ...laneKeys,
  }).strict().default({}),
  webpush: z.object({
    provider: z.enum(['log', 'webpush']).default('log'),
    vapidPublicKey: z.string().optional(), vapidPrivateKey: z.string().optional(), subject: z.string().optional(),
    ...laneKeys,
  }).strict().default({}),
  sms: z.object({
    provider: z.enum(['log', 'twilio']).default('log'),
    accountSid: z.string().optional(), authToken: z.string().optional(), from: z.string().optional(),
    messagingServiceSid: z.string().optional(), endpoint: z.string().url().optional(),
    ...laneKeys,
  }).strict().default({}),
  email: z.object({
    provider: z.enum(['log', 'smtp']).default('log'),
    smtpUrl: z.string().optional(), from: z.string().optional(), replyTo: z.string().optional(),
    pool: z.number().int().positive().optional(),
    ...laneKeys,
  }).strict().default({}),
}).strict();

export const configSchema = z.object({
  /** SQLite file (relative to the home). Default `notify.db`. */
  database: z.string().default('notify.db'),
  defaults: z.object({
    /** ISO 3166 country for phone numbers written without a country code. Default `US`. */
    country: z.string().regex(/^[A-Z]{2}$/, 'must be a two-letter ISO country code such as US or KR').default('US'),
    /** IANA timezone for users without one. Default `UTC`. */
    timezone: z.string().default('UTC'),
    /** Locale for users without one. Default `en`. */
    locale: z.string().default('en'),
    /** Whether users with no recorded choice receive marketing. Default false. */
    marketingOptIn: z.boolean().default(false),
  }).strict().default({}),
  /** Categories; `transactional: false` marks marketing (capped, opt-in by default setting). */
  categories: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/), z.object({ transactional: z.boolean() }).strict())
    .default({ transactional: { transactional: true }, security: { transactional: true }, social: { transactional: true }, marketing: { transactional: false } }),
  /** Frequency caps per category: notifications a person receives per 24 h. */
  limits: z.record(z.string(), z.object({ perDay: z.number().int().nonnegative().optional() }).strict()).default({}),
  channels: channelsSchema.default({}),
  retry: z.object({
    /** Attempts before a delivery is dead. Default 8. */
    maxAttempts: z.number().int().positive().default(8),
    /** First backoff. Default 1000 ms. */
    baseMs: z.number().int().positive().default(1000),
    /** Largest backoff. Default 1 h. */
    maxMs: z.number().int().positive().default(3_600_000),
    /** A delivery older than this is dead instead of retried. Default 24 h. */
    maxAgeMs: z.number().int().positive().default(86_400_000),
  }).strict().default({}),
  daemon: z.object({
    /** How long a claim holds a delivery. Default 60 s. */
    leaseMs: z.number().int().positive().default(60_000),
    /** Rows claimed per statement. Default 500. */
    claimBatch: z.number().int().positive().default(500),
    /** Idle poll interval for work written by other processes. Default 250 ms. */
    pollMs: z.number().int().positive().default(250),
    /** Results are written back at least this often. Default 20 ms. */
    flushMs: z.number().int().positive().default(20),
  }).strict().default({}),
  alerts: z.object({
    /** Operators emailed about dead deliveries (through the email channel). */
    email: z.array(z.string().email()).default([]),
    /** URL that receives a JSON POST about dead deliveries. */
    webhookUrl: z.string().url().optional(),
    /** At most one alert per interval. Default 5 min. */
    intervalMs: z.number().int().positive().default(300_000),
  }).strict().default({}),
  server: z.object({
    /** API listen address. Default 127.0.0.1:7878. */
    listen: z.string().default('127.0.0.1:7878'),
    publicUrl: z.string().url().optional(),
    tlsCert: z.string().optional(),
    tlsKey: z.string().optional(),
    bodyLimit: z.number().int().positive().default(65536),
  }).strict().default({}),
}).strict();

export type Config = z.infer<typeof configSchema>;

/** Dot paths whose values are secrets: redacted by `config show`, never logged. */
export const SECRET_KEYS = ['channels.sms.authToken', 'channels.webpush.vapidPrivateKey', 'channels.email.smtpUrl', 'server.tlsKey'];

export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const dir = flag ?? env.NOTIFY_HOME ?? join(homedir(), '.notify');
  return resolve(dir);
}

export function configPath(home: string): string {
  return join(home, 'config.json');
}

export function databasePath(home: string, config: Config): string {
  return isAbsolute(config.database) ? config.database : join(home, config.database);
}

/** Reads the raw JSON object of config.json, or throws ConfigError naming the fix. */
export function readRawConfig(home: string): Record<string, unknown> {
  const path = configPath(home);
  if (!existsSync(path)) throw new ConfigError(`no notify home at ${home}: run "notify init" (or pass --home / set NOTIFY_HOME)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${path} is not valid JSON (${(err as Error).message}): fix the file or run "notify init --force"`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${path} must hold a JSON object`);
  return raw as Record<string, unknown>;
}

export function parseConfig(raw: unknown, source: string): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.join('.') || '(root)';
    throw new ConfigError(`${source}: ${path}: ${issue.message}${issue.code === 'unrecognized_keys' ? '' : ''}`);
  }
  return result.data;
}

export function loadConfig(home: string): Config {
  return parseConfig(readRawConfig(home), configPath(home));
}

/** Writes config.json atomically with mode 0600. */
export function writeRawConfig(home: string, raw: Record<string, unknown>): void {
  const path = configPath(home);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(raw, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Parses a command-line value: JSON when it is valid JSON (numbers, booleans, arrays, objects), else a string. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const KEY_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export function checkKey(path: string): string[] {
  if (!KEY_RE.test(path)) throw new InputError(`"${path}" is not a config key: use dot paths such as limits.marketing.perDay`);
  return path.split('.');
}

export function getPath(obj: unknown, parts: string[]): unknown {
  let cur: unknown = obj;
  for (const p of parts) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

export function setPath(obj: Record<string, unknown>, parts: string[], value: unknown): void {
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (!next || typeof next !== 'object' || Array.isArray(next)) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}

export function unsetPath(obj: Record<string, unknown>, parts: string[]): boolean {
  const parent = getPath(obj, parts.slice(0, -1));
  if (!parent || typeof parent !== 'object') return false;
  const key = parts[parts.length - 1]!;
  if (!(key in parent)) return false;
  delete (parent as Record<string, unknown>)[key];
  return true;
}

/** A deep copy with secret values replaced, for display. */
export function redact(config: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  for (const key of SECRET_KEYS) {
    const parts = key.split('.');
    if (getPath(copy, parts) !== undefined) setPath(copy, parts, '********');
  }
  return copy;
}

/** Is this key a secret? */
export function isSecretKey(path: string): boolean {
  return SECRET_KEYS.some((k) => path === k || k.startsWith(path + '.'));
}
