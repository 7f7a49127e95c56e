/**
 * Devices and preferences carried by JSONL import rows. Validated with the user's row (a bad device or
 * preference rejects the whole row, and nothing of it is written); written after the batch's users.
 */
import { InputError } from '../../errors.js';
import { checkCategory, checkChannel } from '../../core/policy.js';
import type { Channel } from '../../core/types.js';
import type { DeviceInput } from '../../store/devices.js';
import type { Store } from '../../store/index.js';
import { normalizeDevice, withFieldPrefix } from '../devices/input.js';

export interface ExtraPreference {
  channel: Channel;
  /** A category, or '*' for the whole channel. */
  category: string;
  optIn: boolean;
}

export interface UserExtras {
  userId: string;
  devices: DeviceInput[];
  preferences: ExtraPreference[];
}

function asObject(value: unknown, field: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new InputError('must be a JSON object', { field });
  return value as Record<string, unknown>;
}

function asList(value: unknown, field: string, example: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InputError(`must be a JSON array such as ${example}`, { field });
  return value;
}

/**
 * Validates a row's `devices` and `preferences`. Errors name the field inside the row
 * (`devices[0].token`, `preferences[1].optIn`). `categories`, when given, are the configured category
 * names a preference may use; without it only the name's shape is checked.
 */
export function normalizeExtras(userId: string, devices: unknown, preferences: unknown, categories?: readonly string[]): UserExtras {
  const deviceList = asList(devices, 'devices', '[{"platform": "ios", "token": "..."}]').map((raw, i) => {
    const field = `devices[${i}]`;
    const d = asObject(raw, field);
    return withFieldPrefix(field, () => normalizeDevice(userId, d));
  });
  const prefList = asList(preferences, 'preferences', '[{"channel": "email", "category": "marketing", "optIn": false}]').map((raw, i): ExtraPreference => {
    const field = `preferences[${i}]`;
    const p = asObject(raw, field);
    const channel = checkChannel(p.channel, `${field}.channel`);
    const category = checkCategory(p.category ?? '*', categories, `${field}.category`);
    if (typeof p.optIn !== 'boolean') throw new InputError('must be true or false', { field: `${field}.optIn` });
    return { channel, category, optIn: p.optIn };
  });
  return { userId, devices: deviceList, preferences: prefList };
}

/** Registers the devices (one transaction) and records the preferences with source "import" (another). */
export async function writeExtras(store: Store, extras: UserExtras[], _now: number): Promise<void> {
  const devices = extras.flatMap((e) => e.devices);
  if (devices.length) await store.devices.registerMany(devices);
  const changes = extras.flatMap((e) => e.preferences.map((p) => ({ userId: e.userId, ...p, source: 'import' })));
  if (changes.length) await store.prefs.set(changes);
}
