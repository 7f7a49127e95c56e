/** How templates are shown: listing columns, the JSON shape, and `key: value` records. */
import type { Column } from '../../io.js';
import type { TemplateDef } from '../../core/template.js';
import { CHANNELS, type Channel } from '../../core/types.js';
import type { StoredTemplate, TemplateSummary, TemplateVersion } from '../../store/templates.js';

/** Mirrors templateChannels in src/core/template.ts without loading it (and liquidjs) for a listing. */
export function channelsOf(def: TemplateDef): Channel[] {
  return CHANNELS.filter((c) => def[c] || Object.values(def.locales ?? {}).some((v) => v[c]));
}

export function localesOf(def: TemplateDef): string[] {
  return Object.keys(def.locales ?? {});
}

/** The stable JSON of one template version. */
export function templateJson(t: StoredTemplate): Record<string, unknown> {
  return { name: t.name, version: t.version, category: t.category, channels: channelsOf(t.def), locales: localesOf(t.def), createdAt: t.createdAt, def: t.def };
}

export const TEMPLATE_COLUMNS: Column<TemplateSummary>[] = [
  { header: 'NAME', value: (t) => t.name },
  { header: 'VERSION', value: (t) => t.version },
  { header: 'CATEGORY', value: (t) => t.category },
  { header: 'CHANNELS', value: (t) => channelsOf(t.def).join(',') },
  { header: 'LOCALES', value: (t) => localesOf(t.def).join(',') },
  { header: 'UPDATED', value: (t) => t.createdAt },
];

export function summaryJson(t: TemplateSummary): Record<string, unknown> {
  return { name: t.name, version: t.version, category: t.category, channels: channelsOf(t.def), locales: localesOf(t.def), createdAt: t.firstCreatedAt, updatedAt: t.createdAt };
}

export const VERSION_COLUMNS: Column<TemplateVersion>[] = [
  { header: 'VERSION', value: (v) => v.version },
  { header: 'CATEGORY', value: (v) => v.category },
  { header: 'CREATED', value: (v) => v.createdAt },
  { header: 'CURRENT', value: (v) => (v.current ? 'yes' : '') },
];

/** Flattens nested parts into dotted keys (`push.title`, `locales.ko.sms.body`) for `key: value` output. */
export function flatten(value: unknown, prefix: string, out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = value;
  }
  return out;
}

export function templateRecord(t: StoredTemplate): Record<string, unknown> {
  const { category: _category, ...parts } = t.def;
  return { name: t.name, version: t.version, category: t.category, created: t.createdAt, ...flatten(parts, '') };
}
