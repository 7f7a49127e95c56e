/**
 * Rendering templates with Liquid. Templates are parsed once per (name, version, locale, channel) and
 * rendered synchronously, because the daemon renders on its hot path.
 *
 * Two shared engines differ only in output escaping: email HTML escapes `{{ }}` output (`| raw` opts
 * out); every other part is plain text and is not escaped. liquidjs fixes escaping per engine, so one
 * engine per mode is the closest thing to "one engine". Both use strict variables and filters, read
 * only own properties, and have no file system: `{% include %}` cannot read files.
 *
 * Most fields are literal text with `{{ user.x }}` / `{{ data.y }}` outputs and nothing else. Those are
 * rendered by concatenation: Liquid's renderer allocated about 25 KB per push message (generators, scopes,
 * tokens), most of the daemon's garbage at full speed. The shortcut gives Liquid's own output (strings as
 * they are, numbers and booleans through String, null as nothing, HTML escaped as its `escape` filter
 * does) and hands every other case to Liquid: a missing or inherited property, an array, an object.
 */
import { Liquid, type Template } from 'liquidjs';
import { InputError } from '../errors.js';
import { deriveText } from './html-text.js';
import type { Channel, RenderedContent, RenderedEmail, RenderedPush, RenderedSms, User } from './types.js';
import type { EmailPart, PushPart, SmsPart, TemplateDef } from './template.js';

const baseOptions = {
  strictVariables: true,
  strictFilters: true,
  ownPropertyOnly: true,
  // An empty in-memory file system: include/render/layout find nothing instead of reading the disk.
  templates: {} as Record<string, string>,
};

const textEngine = new Liquid(baseOptions);
const htmlEngine = new Liquid({ ...baseOptions, outputEscape: 'escape' });

/** What templates see: `{{ user.name }}`, `{{ user.attributes.plan }}`, `{{ data.product }}`. */
export interface RenderContext {
  /** The user's fields, without the bookkeeping times. */
  user: Omit<User, 'createdAt' | 'updatedAt'>;
  data: Record<string, unknown>;
}

export function renderContext(user: User, data: Record<string, unknown> = {}): RenderContext {
  return {
    user: {
      id: user.id, name: user.name, email: user.email, phone: user.phone, locale: user.locale,
      timezone: user.timezone, attributes: user.attributes,
    },
    data,
  };
}

/** A Liquid error where the template is at fault, or data it needs is missing at render time. */
export class TemplateRenderError extends InputError {
  constructor(message: string, field: string, readonly variable?: string) {
    super(message, { field });
  }
}

interface LiquidErrorLike { message: string; name?: string; token?: { getPosition?(): [number, number] }; originalError?: { message?: string; variableName?: string } }

function position(err: LiquidErrorLike): string {
  const pos = err.token?.getPosition?.();
  return pos ? `line ${pos[0]}, column ${pos[1]}` : 'unknown position';
}

/** The message without liquidjs's own ", line:1, col:3" suffix. */
function reason(err: LiquidErrorLike): string {
  return (err.originalError?.message ?? err.message).replace(/, line:\d+, col:\d+$/, '');
}

/** Parses a Liquid source or throws InputError naming the field, line and column. */
export function checkLiquid(source: string, field: string): void {
  parseLiquid(source, field, field.endsWith('email.html') ? htmlEngine : textEngine);
}

function parseLiquid(source: string, field: string, engine: Liquid): Template[] {
  try {
    return engine.parse(source);
  } catch (err) {
    const e = err as LiquidErrorLike;
    throw new InputError(`Liquid syntax error at ${position(e)}: ${reason(e)}; fix the template and try again`, { field });
  }
}

/** The top-level variables a source reads (`[['user','name'], ['data','product']]`), not counting locals. */
export function variableRoots(source: string): (string | number)[][] {
  return textEngine.globalVariableSegmentsSync(source).map((segs) => segs.map((s) => (typeof s === 'object' ? String(s) : s)));
}

/**
 * The locale variant a person's locale selects: the exact tag, then its language (`ko-KR` -> `ko`),
 * then none (the default parts).
 */
export function resolveVariant(def: Pick<TemplateDef, 'locales'>, locale: string | null | undefined): string | undefined {
  if (!locale || !def.locales) return undefined;
  const tag = locale.toLowerCase().replace(/_/g, '-');
  if (def.locales[tag]) return tag;
  const parts = tag.split('-');
  for (let n = parts.length - 1; n >= 1; n--) {
    const prefix = parts.slice(0, n).join('-');
    if (def.locales[prefix]) return prefix;
  }
  return undefined;
}

/** The variants a variant key layers, general first: `ko-kr` -> [`ko`, `ko-kr`] (those the template has). */
function variantChain(def: Pick<TemplateDef, 'locales'>, variant: string): string[] {
  const parts = variant.split('-');
  const chain: string[] = [];
  for (let n = 1; n <= parts.length; n++) {
    const key = parts.slice(0, n).join('-');
    if (def.locales?.[key]) chain.push(key);
  }
  return chain;
}

/**
 * The part for a channel in a variant: the default part with each matching variant's fields laid over
 * it, general to specific (default, then `ko`, then `ko-kr`).
 */
export function partFor(def: TemplateDef, channel: 'push', variant?: string): PushPart | undefined;
export function partFor(def: TemplateDef, channel: 'sms', variant?: string): SmsPart | undefined;
export function partFor(def: TemplateDef, channel: 'email', variant?: string): EmailPart | undefined;
export function partFor(def: TemplateDef, channel: Channel, variant?: string): PushPart | SmsPart | EmailPart | undefined;
export function partFor(def: TemplateDef, channel: Channel, variant?: string): PushPart | SmsPart | EmailPart | undefined {
  let part = def[channel] as Record<string, unknown> | undefined;
  for (const key of variant ? variantChain(def, variant) : []) {
    const over = def.locales?.[key]?.[channel] as Record<string, unknown> | undefined;
    if (!over) continue;
    part = { ...part, ...over };
    // A layer with its own HTML but no text must not keep the text of another language.
    if (channel === 'email' && over.html !== undefined && over.text === undefined) delete part.text;
  }
  return part as PushPart | SmsPart | EmailPart | undefined;
}

/** Literal text around plain `{{ user.a.b }}` / `{{ data.c }}` outputs: texts.length = paths.length + 1. */
interface Interpolation { texts: string[]; paths: string[][]; escape: boolean }

/**
 * A field ready to render: constant text skips Liquid entirely; plain outputs are concatenated
 * (`interpolation`), with Liquid behind them for the values the shortcut does not take.
 */
type Piece = string | { field: string; templates: Template[]; engine: Liquid; interpolation?: Interpolation };

const PLAIN_OUTPUT = /\{\{\s*((?:user|data)(?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*\}\}/g;

function piece(source: string, field: string, engine: Liquid): Piece {
  if (!/\{\{|\{%/.test(source)) return source;
  const p: Piece = { field, templates: parseLiquid(source, field, engine), engine };
  const texts: string[] = [];
  const paths: string[][] = [];
  let last = 0;
  for (const m of source.matchAll(PLAIN_OUTPUT)) {
    texts.push(source.slice(last, m.index));
    paths.push(m[1]!.split('.'));
    last = m.index! + m[0].length;
  }
  texts.push(source.slice(last));
  // Anything else Liquid would read (tags, filters, whitespace control, other names) leaves it to Liquid.
  if (!texts.some((t) => t.includes('{{') || t.includes('{%'))) p.interpolation = { texts, paths, escape: engine === htmlEngine };
  return p;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };

/** An output's text as Liquid writes it, or undefined where the shortcut leaves it to Liquid. */
function plainValue(ctx: RenderContext, path: string[], escape: boolean): string | undefined {
  let value: unknown = ctx;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else if (value === null) return '';
  else return undefined;
  return escape ? text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!) : text;
}

function interpolate(i: Interpolation, ctx: RenderContext): string | undefined {
  let out = i.texts[0]!;
  for (let k = 0; k < i.paths.length; k++) {
    const value = plainValue(ctx, i.paths[k]!, i.escape);
    if (value === undefined) return undefined;
    out += value + i.texts[k + 1]!;
  }
  return out;
}

function renderPiece(p: Piece, ctx: RenderContext): string {
  if (typeof p === 'string') return p;
  if (p.interpolation) {
    const out = interpolate(p.interpolation, ctx);
    if (out !== undefined) return out;
  }
  try {
    return String(p.engine.renderSync(p.templates, ctx));
  } catch (err) {
    const e = err as LiquidErrorLike;
    const variable = e.originalError?.variableName;
    if (variable !== undefined) {
      throw new TemplateRenderError(`undefined variable "${variable}" (${position(e)}): pass it in the data (--data ${variable.replace(/^data\./, '')}=...) or change the template`, p.field, variable);
    }
    throw new TemplateRenderError(`cannot render (${position(e)}): ${reason(e)}`, p.field);
  }
}

interface CompiledPush { title: Piece; body: Piece; data: [string, Piece][]; url?: Piece; sound?: Piece; badge?: Piece | number; badgeField: string; collapseKey?: Piece }
interface CompiledSms { body: Piece }
interface CompiledEmail { subject: Piece; html?: Piece; text: Piece }
type CompiledPart = CompiledPush | CompiledSms | CompiledEmail;

/** A template parsed lazily per (variant, channel) and rendered synchronously. */
export interface CompiledTemplate {
  readonly def: TemplateDef;
  /** The variant key a locale selects (undefined: the default parts). */
  variant(locale: string | null | undefined): string | undefined;
  /** Whether the template has a part for this channel in this locale. */
  has(channel: Channel, locale?: string | null): boolean;
  render(channel: 'push', ctx: RenderContext, locale?: string | null): RenderedPush;
  render(channel: 'sms', ctx: RenderContext, locale?: string | null): RenderedSms;
  render(channel: 'email', ctx: RenderContext, locale?: string | null): RenderedEmail;
  render(channel: Channel, ctx: RenderContext, locale?: string | null): RenderedContent;
}

export function compileTemplate(def: TemplateDef): CompiledTemplate {
  const parts = new Map<string, CompiledPart | null>();
  const variants = new Map<string, string | undefined>();

  const variant = (locale: string | null | undefined): string | undefined => {
    const key = locale ?? '';
    if (!variants.has(key)) {
      // Bounded: locales seen are few, but guard against a stream of odd tags.
      if (variants.size > 1000) variants.clear();
      variants.set(key, resolveVariant(def, locale));
    }
    return variants.get(key);
  };

  const compiled = (channel: Channel, v: string | undefined): CompiledPart | null => {
    const key = `${v ?? ''}\u0000${channel}`;
    let part = parts.get(key);
    if (part === undefined) {
      part = compilePart(def, channel, v);
      parts.set(key, part);
    }
    return part;
  };

  return {
    def,
    variant,
    has: (channel, locale) => compiled(channel, variant(locale)) !== null,
    render: ((channel: Channel, ctx: RenderContext, locale?: string | null): RenderedContent => {
      const part = compiled(channel, variant(locale));
      if (!part) throw new TemplateRenderError(`the template has no ${channel} part`, channel);
      if (channel === 'push') return renderPush(part as CompiledPush, ctx);
      if (channel === 'sms') return { body: renderPiece((part as CompiledSms).body, ctx) };
      const email = part as CompiledEmail;
      const out: RenderedEmail = { subject: renderPiece(email.subject, ctx).replace(/\s+/g, ' ').trim(), text: renderPiece(email.text, ctx) };
      if (email.html) out.html = renderPiece(email.html, ctx);
      return out;
    }) as CompiledTemplate['render'],
  };
}

function compilePart(def: TemplateDef, channel: Channel, v: string | undefined): CompiledPart | null {
  const prefix = v ? `locales.${v}.${channel}` : channel;
  const f = (name: string) => `${prefix}.${name}`;
  if (channel === 'push') {
    const p = partFor(def, 'push', v);
    if (!p) return null;
    return {
      title: piece(p.title ?? '', f('title'), textEngine),
      body: piece(p.body, f('body'), textEngine),
      data: Object.entries(p.data ?? {}).map(([k, s]) => [k, piece(s, f(`data.${k}`), textEngine)]),
      url: p.url === undefined ? undefined : piece(p.url, f('url'), textEngine),
      sound: p.sound === undefined ? undefined : piece(p.sound, f('sound'), textEngine),
      badge: p.badge === undefined ? undefined : typeof p.badge === 'number' ? p.badge : piece(p.badge, f('badge'), textEngine),
      badgeField: f('badge'),
      collapseKey: p.collapseKey === undefined ? undefined : piece(p.collapseKey, f('collapseKey'), textEngine),
    };
  }
  if (channel === 'sms') {
    const p = partFor(def, 'sms', v);
    return p ? { body: piece(p.body, f('body'), textEngine) } : null;
  }
  const p = partFor(def, 'email', v);
  if (!p) return null;
  return {
    subject: piece(p.subject, f('subject'), textEngine),
    html: p.html === undefined ? undefined : piece(p.html, f('html'), htmlEngine),
    // Stored templates always have text; derive it here too for definitions that were never checked.
    text: piece(p.text ?? deriveText(p.html ?? ''), f('text'), textEngine),
  };
}

function renderPush(p: CompiledPush, ctx: RenderContext): RenderedPush {
  const out: RenderedPush = { title: renderPiece(p.title, ctx), body: renderPiece(p.body, ctx), data: {} };
  for (const [k, v] of p.data) out.data[k] = renderPiece(v, ctx);
  if (p.url) out.url = renderPiece(p.url, ctx);
  if (p.sound) out.sound = renderPiece(p.sound, ctx);
  if (p.badge !== undefined) {
    if (typeof p.badge === 'number') out.badge = p.badge;
    else {
      const text = renderPiece(p.badge, ctx).trim();
      if (!/^\d+$/.test(text)) throw new TemplateRenderError(`the badge rendered "${text}", not a whole number`, p.badgeField);
      out.badge = Number(text);
    }
  }
  if (p.collapseKey) out.collapseKey = renderPiece(p.collapseKey, ctx);
  return out;
}

/** A Map-backed LRU cache: `get` refreshes an entry; `set` evicts the least recently used past `max`. */
export class LruCache<K, V> {
  private map = new Map<K, V>();
  constructor(readonly max: number) {}

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }

  get size(): number {
    return this.map.size;
  }
}

/**
 * Compiled templates by (name, version). Versions never change once written, so entries never go
 * stale; each compiled template in turn caches its parsed parts by (locale variant, channel).
 */
export class TemplateCache {
  private cache: LruCache<string, CompiledTemplate>;
  constructor(max = 1000) {
    this.cache = new LruCache(max);
  }

  /** The compiled template, loading the definition with `load` on a miss. */
  get(name: string, version: number, load: () => TemplateDef): CompiledTemplate {
    const key = `${name}\u0000${version}`;
    let compiled = this.cache.get(key);
    if (!compiled) {
      compiled = compileTemplate(load());
      this.cache.set(key, compiled);
    }
    return compiled;
  }
}
