/** Turns loosely typed user fields (flags, CSV cells, JSON) into a validated UserInput. */
import { InputError } from '../errors.js';
import type { UserInput } from '../store/users.js';
import { checkLocale, checkTimezone, checkUserId, normalizeEmail, normalizePhone } from './validate.js';

export const USER_FIELDS = ['id', 'name', 'email', 'phone', 'locale', 'timezone'] as const;

export interface UserDefaults {
  country: string;
}

function text(value: unknown, field: string): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null || value === '') return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw new InputError(`must be text`, { field });
}

/**
 * Validates and normalises. Empty strings and nulls clear a field; undefined leaves it alone.
 * Throws InputError naming the field.
 */
export function normalizeUser(raw: Record<string, unknown>, defaults: UserDefaults): UserInput {
  const id = text(raw.id, 'id');
  if (!id) throw new InputError('is required', { field: 'id' });
  const out: UserInput = { id: checkUserId(id) };
  const name = text(raw.name, 'name');
  if (name !== undefined) out.name = name;
  const email = text(raw.email, 'email');
  if (email !== undefined) out.email = email === null ? null : normalizeEmail(email);
  const phone = text(raw.phone, 'phone');
  if (phone !== undefined) out.phone = phone === null ? null : normalizePhone(phone, defaults.country);
  const locale = text(raw.locale, 'locale');
  if (locale !== undefined) out.locale = locale === null ? null : checkLocale(locale);
  const timezone = text(raw.timezone, 'timezone');
  if (timezone !== undefined) out.timezone = timezone === null ? null : checkTimezone(timezone);
  if (raw.attributes !== undefined) {
    if (!raw.attributes || typeof raw.attributes !== 'object' || Array.isArray(raw.attributes)) {
      throw new InputError('must be a JSON object', { field: 'attributes' });
    }
    out.attributes = raw.attributes as Record<string, unknown>;
  }
  return out;
}
