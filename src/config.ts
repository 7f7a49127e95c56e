/**
 * The home directory and its config.json. Every key is validated by the schema below on `set` and on
 * load. Keys with secrets are listed in SECRET_KEYS and redacted by `config show`.
 */
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { checkLocale, checkTimezone } from './core/validate.js';
import { configPath, parseValue, readRawConfig, setPath } from './config-file.js';

export * from './config-file.js';

/** Checks `set` and load apply beyond types, so a bad value is refused when written, not found later. */
const ok = (check: () => unknown): boolean => {
  try {
    check();
    return true;
  } catch {
    return false;
  }
};
const timezone = z.string().refine((tz) => ok(() => checkTimezone(tz)), 'must be an IANA timezone such as UTC or Asia/Seoul');
const locale = z.string().refine((tag) => ok(() => checkLocale(tag)), 'must be a BCP 47 locale such as en or pt-BR');
const regions = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
const country = z.string().regex(/^[A-Z]{2}$/, 'must be a two-letter ISO country code such as US or KR')
  .refine((code) => {
    try {
      return !/^[A-Z]{2}$/.test(code) || (code !== 'ZZ' && regions.of(code) !== undefined);
    } catch {
      return false;
    }
  }, 'is not a country code: use one such as US or KR');
const httpUrl = z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL');
const httpsUrl = z.string().url().refine((u) => u.startsWith('https://'), 'must be an https:// URL (https://host:port)');
const listen = z.string().refine((text) => ok(() => parseListen(text)), 'must be host:port, e.g. 127.0.0.1:7878');
const smtpUrl = z.string().refine((u) => {
  try {
    return ['smtp:', 'smtps:'].includes(new URL(u).protocol);
  } catch {
    return false;
  }
}, 'must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@smtp.example.com:587');
/** `notify@acme.example` or `Acme <notify@acme.example>`. */
const mailbox = z.string().regex(/^(?:[^<>]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/, 'must be an email address, optionally with a name: "Acme <notify@acme.example>"');

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
    topic: z.string().optional(), production: z.boolean().default(false), endpoint: httpsUrl.optional(),
    ...laneKeys,
  }).strict().default({}),
  fcm: z.object({
    provider: z.enum(['log', 'fcm']).default('log'),
    serviceAccountFile: z.string().optional(), endpoint: httpsUrl.optional(),
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
    messagingServiceSid: z.string().optional(), endpoint: httpsUrl.optional(),
    ...laneKeys,
  }).strict().default({}),
  email: z.object({
    provider: z.enum(['log', 'smtp']).default('log'),
    smtpUrl: smtpUrl.optional(), from: mailbox.optional(), replyTo: mailbox.optional(),
    pool: z.number().int().positive().optional(),
    ...laneKeys,
  }).strict().default({}),
}).strict();

export const configSchema = z.object({
  /** SQLite file (relative to the home). Default `notify.db`. */
  database: z.string().min(1, 'must be a SQLite file path such as notify.db').default('notify.db'),
  defaults: z.object({
    /** ISO 3166 country for phone numbers written without a country code. Default `US`. */
    country: country.default('US'),
    /** IANA timezone for users without one. Default `UTC`. */
    timezone: timezone.default('UTC'),
    /** Locale for users without one. Default `en`. */
    locale: locale.default('en'),
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
  /**
   * Marketing deliveries due inside this window of the recipient's local time wait until it ends
   * ("22:00-08:00"). Transactional categories bypass it. A user's attribute `quiet_hours` overrides it
   * ("23:00-07:00", or "off").
   */
  quietHours: z.string().regex(/^(off|([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d)$/, 'must be HH:MM-HH:MM (24-hour), e.g. 22:00-08:00, or off').optional(),
  tracking: z.object({
    /** HMAC key for tracking and unsubscribe links; `notify init` generates one. Secret. */
    key: z.string().min(16).optional(),
    /** Opens this soon after delivery are counted as machine opens. Default 10 s. */
    machineOpenMs: z.number().int().nonnegative().default(10_000),
  }).strict().default({}),
  analytics: z.object({
    /** Opens, clicks and delivery outcomes are POSTed here in batches (JSON). */
    webhookUrl: httpUrl.optional(),
    /** Signs each batch: header X-Notify-Signature = sha256=HMAC-SHA256(secret, body). Secret. */
    secret: z.string().optional(),
    /** Events per POST. Default 500. */
    batchSize: z.number().int().positive().default(500),
    /** How often to forward. Default 5000 ms. */
    intervalMs: z.number().int().positive().default(5000),
  }).strict().default({}),
  scheduler: z.object({
    /** How often due schedules and scheduled campaigns are checked. Default 1000 ms. */
    tickMs: z.number().int().positive().default(1000),
    /** An occurrence later than this is "missed" and follows its schedule's catch-up policy. Default 60 s. */
    graceMs: z.number().int().positive().default(60_000),
  }).strict().default({}),
  daemon: z.object({
    /** How long a claim holds a delivery. Default 60 s. */
    leaseMs: z.number().int().positive().default(60_000),
    /**
     * Rows claimed per statement. Default 100: a claim and the rendering of its rows run without a
     * break, and at 500 they held the event loop (the API, the status socket) for ~45 ms at a time.
     */
    claimBatch: z.number().int().positive().default(100),
    /** Idle poll interval for work written by other processes. Default 250 ms. */
    pollMs: z.number().int().positive().default(250),
    /** Results are written back at least this often. Default 20 ms. */
    flushMs: z.number().int().positive().default(20),
    /**
     * Run the real providers' SDKs (TLS, encryption, MIME) on threads of their own: one for push, one for
     * SMS and email. Default: on with 2 or more cores (on one thread, email starves while push drains:
     * README, Performance). `log` always runs in the daemon's main thread.
     */
    senderThread: z.boolean().optional(),
  }).strict().default({}),
  alerts: z.object({
    /** Operators emailed about dead deliveries (through the email channel). */
    email: z.array(z.string().email()).default([]),
    /** URL that receives a JSON POST about dead deliveries. */
    webhookUrl: httpUrl.optional(),
    /** At most one alert per interval. Default 5 min. */
    intervalMs: z.number().int().positive().default(300_000),
  }).strict().default({}),
  server: z.object({
    /** API listen address. Default 127.0.0.1:7878. */
    listen: listen.default('127.0.0.1:7878'),
    publicUrl: httpUrl.optional(),
    tlsCert: z.string().optional(),
    tlsKey: z.string().optional(),
    bodyLimit: z.number().int().positive().default(65536),
  }).strict().default({}),
}).strict();

export type Config = z.infer<typeof configSchema>;

export function parseConfig(raw: unknown, source: string): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.join('.') || '(root)';
    throw new ConfigError(`${source}: ${path}: ${issue.message}${issue.code === 'unrecognized_keys' ? '' : ''}`);
  }
  return result.data;
}

/**
 * Keys that may also come from the environment (12-factor deployments): NOTIFY_ + the dot path in
 * upper snake case, e.g. channels.sms.authToken -> NOTIFY_CHANNELS_SMS_AUTH_TOKEN. The environment
 * wins over config.json. Values are read as JSON when they parse (numbers, booleans), else as text.
 */
export const ENV_KEYS = [
  'database', 'defaults.country', 'defaults.timezone',
  'channels.apns.provider', 'channels.apns.keyFile', 'channels.apns.keyId', 'channels.apns.teamId', 'channels.apns.topic',
  'channels.apns.production', 'channels.apns.endpoint',
  'channels.fcm.provider', 'channels.fcm.serviceAccountFile', 'channels.fcm.endpoint',
  'channels.webpush.provider', 'channels.webpush.vapidPublicKey', 'channels.webpush.vapidPrivateKey', 'channels.webpush.subject',
  'channels.sms.provider', 'channels.sms.accountSid', 'channels.sms.authToken', 'channels.sms.from', 'channels.sms.messagingServiceSid',
  'channels.sms.endpoint',
  'channels.email.provider', 'channels.email.smtpUrl', 'channels.email.from', 'channels.email.replyTo',
  'server.listen', 'server.publicUrl', 'server.tlsCert', 'server.tlsKey',
  'tracking.key', 'analytics.webhookUrl', 'analytics.secret', 'alerts.webhookUrl',
] as const;

export function envName(key: string): string {
  return 'NOTIFY_' + key.split('.').map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

export function loadConfig(home: string, env: NodeJS.ProcessEnv = {}): Config {
  const raw = readRawConfig(home);
  const from: string[] = [];
  for (const key of ENV_KEYS) {
    const value = env[envName(key)];
    if (value === undefined || value === '') continue;
    setPath(raw, key.split('.'), key.endsWith('.production') ? parseValue(value) : value);
    from.push(envName(key));
  }
  return parseConfig(raw, from.length ? `${configPath(home)} with ${from.join(', ')}` : configPath(home));
}

/** Parses `host:port`, `[v6]:port`, `:port` or `port`. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(text.trim()) ?? /^()()(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new ConfigError(`server.listen "${text}" is not host:port: set it with "notify config set server.listen 127.0.0.1:7878"`);
  }
  return { host: m[1] || m[2] || '127.0.0.1', port };
}
