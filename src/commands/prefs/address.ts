/** Normalises a suppressed address the way addresses are stored, so lookups match. Loaded lazily. */
import type { Channel } from '../../core/types.js';
import { InputError } from '../../errors.js';
import { normalizeEmail, normalizePhone } from '../../core/validate.js';

export function normalizeAddress(channel: Channel, address: string, defaultCountry: string): string {
  if (channel === 'email') return normalizeEmail(address, 'address');
  if (channel === 'sms') return normalizePhone(address, defaultCountry, 'address');
  const token = address.trim();
  if (!token) throw new InputError('is required: a device token or Web Push endpoint', { field: 'address' });
  return token;
}
