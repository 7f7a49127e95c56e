/**
 * Preference resolution: does a person want this category on this channel? Pure — the store holds the
 * rows, config holds the categories and the marketing default, and this decides.
 *
 * Precedence, most specific first:
 *   1. a row for (channel, category)   — "no marketing email"
 *   2. a row for (channel, '*')        — "no email at all"
 *   3. the default: transactional categories are opted in; marketing (every category config does not
 *      mark transactional, including unknown ones) follows `defaults.marketingOptIn`.
 *
 * `PreferenceStore.optedInSql` compiles the same precedence to SQL for set-based fan-out; the two are
 * tested against one table of cases.
 */
import { InputError } from '../errors.js';
import { CHANNELS, type Channel } from './types.js';

/** The category of a row that covers every category of its channel. */
export const ALL_CATEGORIES = '*';

/** Who recorded a choice. `cli` for operators, `api` for apps, `unsubscribe` for links, `provider` for STOP replies and complaints. */
export const PREFERENCE_SOURCES = ['cli', 'api', 'import', 'unsubscribe', 'provider'] as const;
export type PreferenceSource = (typeof PREFERENCE_SOURCES)[number];

/** A stored choice: one row of `preferences`. */
export interface Preference {
  userId: string;
  channel: Channel;
  /** A category name, or '*' for the whole channel. */
  category: string;
  optIn: boolean;
  source: string;
  updatedAt: string;
}

/** Where an effective choice came from. */
export type PreferenceOrigin = 'category' | 'channel' | 'default';

export interface Resolution {
  optIn: boolean;
  origin: PreferenceOrigin;
  /** The deciding row's source and time; absent for defaults. */
  source?: string;
  updatedAt?: string;
}

export interface EffectivePreference extends Resolution {
  channel: Channel;
  category: string;
}

/** What resolution needs from config. */
export interface PolicyConfig {
  categories: Record<string, { transactional: boolean }>;
  defaults: { marketingOptIn: boolean };
}

/** A category's default when a person recorded nothing. Unknown categories are treated as marketing. */
export function defaultOptIn(category: string, config: PolicyConfig): boolean {
  return config.categories[category]?.transactional === true ? true : config.defaults.marketingOptIn;
}

/** Resolves one channel × category from a person's rows (rows of other channels are ignored). */
export function resolvePreference(
  rows: readonly Pick<Preference, 'channel' | 'category' | 'optIn' | 'source' | 'updatedAt'>[],
  channel: string,
  category: string,
  defaultValue: boolean,
): Resolution {
  const exact = rows.find((r) => r.channel === channel && r.category === category);
  if (exact) return { optIn: exact.optIn, origin: category === ALL_CATEGORIES ? 'channel' : 'category', source: exact.source, updatedAt: exact.updatedAt };
  const wide = rows.find((r) => r.channel === channel && r.category === ALL_CATEGORIES);
  if (wide) return { optIn: wide.optIn, origin: 'channel', source: wide.source, updatedAt: wide.updatedAt };
  return { optIn: defaultValue, origin: 'default' };
}

/** Every channel × configured category, in config order. */
export function effectivePreferences(rows: readonly Preference[], config: PolicyConfig): EffectivePreference[] {
  const out: EffectivePreference[] = [];
  for (const channel of CHANNELS) {
    for (const category of Object.keys(config.categories)) {
      out.push({ channel, category, ...resolvePreference(rows, channel, category, defaultOptIn(category, config)) });
    }
  }
  return out;
}

export function checkChannel(value: unknown, field = 'channel'): Channel {
  if (typeof value === 'string' && (CHANNELS as readonly string[]).includes(value)) return value as Channel;
  throw new InputError(`"${String(value)}" is not a channel: use push, sms or email`, { field });
}

/**
 * A category named in a preference: '*' or one of config's categories. `known` absent means config is
 * not at hand, and only the name's shape is checked.
 */
export function checkCategory(value: unknown, known?: readonly string[], field = 'category'): string {
  if (value === ALL_CATEGORIES) return ALL_CATEGORIES;
  if (typeof value !== 'string' || !/^[a-z][a-z0-9_-]*$/.test(value)) {
    throw new InputError(`"${String(value)}" is not a category name (lower-case letters, digits, "-" and "_"; or "*" for the whole channel)`, { field });
  }
  if (known && !known.includes(value)) {
    throw new InputError(`"${value}" is not a category: use one of ${known.join(', ')}, or add it with: notify config set categories.${value} '{"transactional": false}'`, { field });
  }
  return value;
}

export function checkSource(value: unknown, field = 'source'): PreferenceSource {
  if (typeof value === 'string' && (PREFERENCE_SOURCES as readonly string[]).includes(value)) return value as PreferenceSource;
  throw new InputError(`"${String(value)}" is not a preference source: use one of ${PREFERENCE_SOURCES.join(', ')}`, { field });
}
