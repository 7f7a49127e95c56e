/**
 * Field validation shared by commands, imports and the API. Pure functions: each returns the normalised
 * value or throws InputError naming the field and the fix.
 */
import { createRequire } from 'node:module';
import type { CountryCode, parsePhoneNumberFromString as Parse } from 'libphonenumber-js';
import { InputError } from '../errors.js';
import type { WebPushSubscription } from './types.js';

const EMAIL_RE = /^[^\s@"<>(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function normalizeEmail(value: string, field = 'email'): string {
  const email = value.trim();
  if (email.length > 254 || !EMAIL_RE.test(email)) {
    throw new InputError(`"${value}" is not a valid email address (expected name@example.com)`, { field });
  }
  const at = email.lastIndexOf('@');
  return email.slice(0, at) + '@' + email.slice(at + 1).toLowerCase();
}

/** Normalises to E.164; a number without a country code is read in `defaultCountry`. */
let parsePhone: typeof Parse | undefined;

export function normalizePhone(value: string, defaultCountry: string, field = 'phone'): string {
  // Loaded on first use: its metadata is large and most commands never read a phone number.
  parsePhone ??= (createRequire(import.meta.url)('libphonenumber-js') as { parsePhoneNumberFromString: typeof Parse }).parsePhoneNumberFromString;
  const phone = parsePhone(value.trim(), defaultCountry as CountryCode);
  if (!phone || !phone.isValid()) {
    throw new InputError(`"${value}" is not a valid phone number (use E.164 such as +14155550100, or a national number in ${defaultCountry})`, { field });
  }
  return phone.number;
}

/**
 * Names already checked, per kind. Building an Intl object per row was half an import's validation
 * time; a file holds few distinct zones and locales. Bounded, so odd input cannot grow it without end.
 */
const checked = { timezone: new Map<string, string>(), locale: new Map<string, string>() };
const CHECKED_MAX = 4096;

function remember(kind: keyof typeof checked, value: string, normalised: string): string {
  const seen = checked[kind];
  if (seen.size >= CHECKED_MAX) seen.clear();
  seen.set(value, normalised);
  return normalised;
}

export function checkTimezone(value: string, field = 'timezone'): string {
  const known = checked.timezone.get(value);
  if (known !== undefined) return known;
  try {
    // Throws RangeError for names that are not IANA zones.
    new Intl.DateTimeFormat('en-US', { timeZone: value.trim() });
    return remember('timezone', value, value.trim());
  } catch {
    throw new InputError(`"${value}" is not an IANA timezone (for example Europe/Berlin, Asia/Seoul, UTC)`, { field });
  }
}

export function checkLocale(value: string, field = 'locale'): string {
  const known = checked.locale.get(value);
  if (known !== undefined) return known;
  try {
    const [canonical] = Intl.getCanonicalLocales(value.trim());
    if (!canonical) throw new RangeError('empty');
    return remember('locale', value, canonical);
  } catch {
    throw new InputError(`"${value}" is not a BCP 47 locale (for example en, en-US, ko-KR)`, { field });
  }
}

/** User ids are the caller's own: any printable text without whitespace, up to 200 characters. */
export function checkUserId(value: string, field = 'id'): string {
  const id = value.trim();
  if (!id || id.length > 200 || /\s/.test(id)) throw new InputError(`"${value}" is not a valid user id (1-200 characters, no spaces)`, { field });
  return id;
}

export function checkApnsToken(value: string): string {
  const token = value.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(token)) throw new InputError(`"${value}" is not an APNs device token (expected 64 hex characters)`, { field: 'token' });
  return token;
}

export function checkFcmToken(value: string): string {
  const token = value.trim();
  // FCM registration tokens are long URL-safe strings, usually "<instance>:<APA91...>".
  if (token.length < 32 || token.length > 4096 || !/^[A-Za-z0-9_:\-.]+$/.test(token)) {
    throw new InputError(`"${value.slice(0, 40)}" is not an FCM registration token (expected a long string of letters, digits, ":", "-" and "_")`, { field: 'token' });
  }
  return token;
}

function isBase64Url(s: unknown, bytes?: number): s is string {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]+={0,2}$/.test(s)) return false;
  return bytes === undefined || Buffer.from(s, 'base64url').length === bytes;
}

export function checkSubscription(value: unknown): WebPushSubscription {
  let sub = value;
  if (typeof sub === 'string') {
    try {
      sub = JSON.parse(sub);
    } catch {
      throw new InputError('the Web Push subscription is not valid JSON (expected {"endpoint": ..., "keys": {"p256dh": ..., "auth": ...}})', { field: 'subscription' });
    }
  }
  const s = sub as Partial<WebPushSubscription> | null;
  if (!s || typeof s !== 'object') throw new InputError('the Web Push subscription must be an object with endpoint and keys', { field: 'subscription' });
  let url: URL;
  try {
    url = new URL(String(s.endpoint));
  } catch {
    throw new InputError('the Web Push subscription needs an https endpoint URL', { field: 'subscription.endpoint' });
  }
  if (url.protocol !== 'https:') throw new InputError('the Web Push subscription endpoint must be https', { field: 'subscription.endpoint' });
  if (!isBase64Url(s.keys?.p256dh, 65)) throw new InputError('keys.p256dh must be a base64url P-256 public key (65 bytes)', { field: 'subscription.keys.p256dh' });
  if (!isBase64Url(s.keys?.auth, 16)) throw new InputError('keys.auth must be a base64url 16-byte secret', { field: 'subscription.keys.auth' });
  return { endpoint: url.toString(), expirationTime: s.expirationTime ?? null, keys: { p256dh: s.keys!.p256dh, auth: s.keys!.auth } };
}

/** Reads a CSV cell as the JSON value it most likely is: numbers, booleans, JSON arrays/objects, else text. */
export function inferValue(text: string): unknown {
  const t = text.trim();
  if (t === '') return undefined;
  if (/^-?(0|[1-9]\d{0,14})(\.\d+)?$/.test(t)) return Number(t);
  if (t === 'true') return true;
  if (t === 'false') return false;
  if ((t.startsWith('[') && t.endsWith(']')) || (t.startsWith('{') && t.endsWith('}'))) {
    try {
      return JSON.parse(t);
    } catch {
      return t;
    }
  }
  return t;
}
