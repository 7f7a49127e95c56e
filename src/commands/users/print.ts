/** How users are shown: the columns of a listing and the record of one. */
import type { User } from '../../core/types.js';
import type { Column } from '../../io.js';

export const USER_COLUMNS: Column<User>[] = [
  { header: 'ID', value: (u) => u.id },
  { header: 'NAME', value: (u) => u.name },
  { header: 'EMAIL', value: (u) => u.email },
  { header: 'PHONE', value: (u) => u.phone },
  { header: 'LOCALE', value: (u) => u.locale },
  { header: 'TIMEZONE', value: (u) => u.timezone },
  { header: 'ATTRIBUTES', value: (u) => (Object.keys(u.attributes).length ? u.attributes : '') },
];

export function userRecord(u: User): Record<string, unknown> {
  return {
    id: u.id, name: u.name, email: u.email, phone: u.phone, locale: u.locale, timezone: u.timezone,
    attributes: u.attributes, created: u.createdAt, updated: u.updatedAt,
  };
}
