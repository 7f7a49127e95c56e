/** How apps are shown. Secrets never appear here: only create and rotate print one, once. */
import type { Column } from '../../io.js';
import type { App } from '../../store/apps.js';

export function formatRate(perSec: number): string {
  return `${Number.isInteger(perSec) ? perSec : perSec.toFixed(3).replace(/0+$/, '')}/s`;
}

export const APP_COLUMNS: Column<App>[] = [
  { header: 'NAME', value: (a) => a.name },
  { header: 'KEY', value: (a) => a.key },
  { header: 'SCOPES', value: (a) => a.scopes.join(',') },
  { header: 'RATE', value: (a) => formatRate(a.ratePerSec) },
  { header: 'STATUS', value: (a) => (a.revokedAt ? 'revoked' : 'active') },
  { header: 'CREATED', value: (a) => a.createdAt },
  { header: 'ROTATED', value: (a) => a.rotatedAt },
  { header: 'REVOKED', value: (a) => a.revokedAt },
];

/** The stable JSON of an app (what --json prints). */
export function appJson(a: App) {
  return { id: a.id, name: a.name, key: a.key, scopes: a.scopes, ratePerSec: a.ratePerSec, status: a.revokedAt ? 'revoked' : 'active',
    createdAt: a.createdAt, rotatedAt: a.rotatedAt, revokedAt: a.revokedAt };
}

/** Prints newly made credentials: JSON, a record for people, or tab-separated when piped. */
export function secretRecord(a: App, secret: string): Record<string, unknown> {
  return { name: a.name, key: a.key, secret, scopes: a.scopes.join(','), rate: formatRate(a.ratePerSec) };
}
