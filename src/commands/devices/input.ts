/**
 * Turns a loosely typed device (flags, CSV cells, JSON) into a validated DeviceInput. Shared by
 * `devices add`, `devices import` and the JSONL users import. Loads core/validate.ts (and with it
 * libphonenumber-js), so commands import this module lazily.
 */
import { InputError } from '../../errors.js';
import { PLATFORMS, type Platform } from '../../core/types.js';
import { checkApnsToken, checkFcmToken, checkSubscription } from '../../core/validate.js';
import type { DeviceInput } from '../../store/devices.js';

export interface RawDevice {
  platform?: unknown;
  token?: unknown;
  subscription?: unknown;
}

/** The reason of an InputError without its `line N, field "F": ` prefix. */
export function reasonOf(err: InputError): string {
  const field = err.where?.field;
  const prefix = field !== undefined ? `field "${field}": ` : '';
  return prefix && err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
}

/** Runs `fn`, naming fields of InputErrors under `prefix` (`devices[0]` turns `token` into `devices[0].token`). */
export function withFieldPrefix<T>(prefix: string, fn: () => T): T {
  if (!prefix) return fn();
  try {
    return fn();
  } catch (err) {
    if (err instanceof InputError) {
      throw new InputError(reasonOf(err), { field: err.where?.field ? `${prefix}.${err.where.field}` : prefix });
    }
    throw err;
  }
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/**
 * Validates one device for `userId`. Field names in errors are `platform`, `token`, `subscription...`
 * (wrap with withFieldPrefix to place them in a bigger record).
 */
export function normalizeDevice(userId: string, raw: RawDevice): DeviceInput {
  const platform = typeof raw.platform === 'string' ? raw.platform.trim().toLowerCase() : raw.platform;
  if (typeof platform !== 'string' || !(PLATFORMS as readonly string[]).includes(platform)) {
    throw new InputError(`${isBlank(platform) ? 'is required' : `"${String(platform)}" is not a platform`}: use ios, android or web`, { field: 'platform' });
  }
  if (platform === 'web') {
    if (isBlank(raw.subscription)) throw new InputError('a web device needs its Web Push subscription JSON (endpoint and keys)', { field: 'subscription' });
    const subscription = checkSubscription(raw.subscription);
    if (!isBlank(raw.token) && raw.token !== subscription.endpoint) {
      throw new InputError('a web device is identified by its subscription; leave the token out', { field: 'token' });
    }
    return { userId, platform: 'web', token: subscription.endpoint, subscription };
  }
  if (!isBlank(raw.subscription)) throw new InputError(`an ${platform} device has a token, not a subscription`, { field: 'subscription' });
  if (isBlank(raw.token)) throw new InputError(`an ${platform} device needs its token`, { field: 'token' });
  if (typeof raw.token !== 'string') throw new InputError('must be text', { field: 'token' });
  const token = platform === 'ios' ? checkApnsToken(raw.token) : checkFcmToken(raw.token);
  return { userId, platform: platform as Platform, token };
}
