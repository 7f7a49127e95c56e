/**
 * Template definitions: the schema of a template file (YAML or JSON), and the checks run before a
 * template is saved. A template has a category and one part per channel it can be sent on; locale
 * variants override fields of those parts for people whose locale matches.
 *
 * Example file:
 *
 *   category: marketing
 *   push: { title: "Hi {{ user.name }}", body: "{{ data.product }} is back" }
 *   sms: { body: "{{ data.product }} is back: {{ data.url }}" }
 *   email: { subject: "Back in stock", html: "<p>Hi {{ user.name }}</p>" }
 *   locales:
 *     ko: { push: { title: "{{ user.name }}님 안녕하세요" } }
 */
import { parseDocument, isNode, LineCounter } from 'yaml';
import { z } from 'zod';
import type { Config } from '../config.js';
import { InputError } from '../errors.js';
import { CHANNELS, type Channel } from './types.js';
import { deriveText } from './html-text.js';
import { checkLiquid, partFor, variableRoots } from './render.js';

export { deriveText };

export const TEMPLATE_NAME_RE = /^[a-z0-9][a-z0-9_-]*$/;
/** APNs and FCM both refuse payloads above 4 KB. */
export const PUSH_PAYLOAD_LIMIT = 4096;

/** Text a message cannot do without: an empty SMS, push body or subject is a mistake, not a choice. */
const required = z.string().refine((text) => text.trim() !== '', 'must not be empty');
/** A Liquid template, or literal digits: the badge count. */
const badge = z.union([
  z.number().int().nonnegative(),
  z.string().refine((text) => /\{\{|\{%/.test(text) || /^\s*\d+\s*$/.test(text), 'must be a whole number, or Liquid that renders to one ({{ data.count }})'),
]);

const pushPart = z.object({
  /** Liquid. Default empty (Android shows the app name). */
  title: z.string().optional(),
  body: required,
  /** Custom key/value data for the app; each value is a Liquid template rendering to a string. */
  data: z.record(z.string()).optional(),
  /** Opened when the notification is tapped. */
  url: z.string().optional(),
  sound: z.string().optional(),
  /** A number, or a Liquid template that renders to a whole number. */
  badge: badge.optional(),
  /** Notifications with the same key replace each other on the device. */
  collapseKey: z.string().optional(),
}).strict();

const smsPart = z.object({ body: required }).strict();

const emailPart = z.object({
  subject: required,
  /** Rendered with HTML escaping: `{{ x }}` is safe; `{{ x | raw }}` is not escaped. */
  html: z.string().optional(),
  /** Derived from `html` when absent. */
  text: z.string().optional(),
}).strict();

const variant = z.object({
  push: pushPart.partial().strict().optional(),
  sms: smsPart.partial().strict().optional(),
  email: emailPart.partial().strict().optional(),
}).strict();

const LOCALE_KEY_RE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export const templateFileSchema = z.object({
  /** Optional in the file; the command-line NAME wins when both are given and agree. */
  name: z.string().optional(),
  /** A key of config `categories`; `--category` on the command line wins. */
  category: z.string().optional(),
  push: pushPart.optional(),
  sms: smsPart.optional(),
  email: emailPart.optional(),
  /** Variants by locale (`ko`, `pt-BR`); each field given replaces the default part's field. */
  locales: z.record(z.string().regex(LOCALE_KEY_RE, 'locale keys are BCP 47 tags such as ko or pt-BR'), variant).optional(),
  /** Open and click tracking for email. Absent: both on (once the daemon has a public URL and a key); given: each key it leaves out is off. */
  tracking: z.object({ opens: z.boolean().default(false), clicks: z.boolean().default(false) }).strict().optional(),
}).strict();

export type PushPart = z.infer<typeof pushPart>;
export type SmsPart = z.infer<typeof smsPart>;
export type EmailPart = z.infer<typeof emailPart>;
export type TemplateVariant = z.infer<typeof variant>;

/** A checked template as stored: email parts always carry text. */
export interface TemplateDef {
  category: string;
  push?: PushPart;
  sms?: SmsPart;
  email?: EmailPart;
  /** Keys are lower-case locale tags. */
  locales?: Record<string, TemplateVariant>;
  tracking?: { opens: boolean; clicks: boolean };
}

/** What a template file holds before checks. */
export type TemplateFile = z.infer<typeof templateFileSchema>;

export function checkTemplateName(name: string): string {
  if (!TEMPLATE_NAME_RE.test(name)) {
    throw new InputError(`"${name}" is not a template name: use lower-case letters, digits, "-" and "_", starting with a letter or digit`, { field: 'name' });
  }
  return name;
}

export function checkCategory(category: string | undefined, config: Pick<Config, 'categories'>): string {
  if (!category) {
    throw new InputError(`a template needs a category: add "category: <name>" to the file or pass --category (one of ${Object.keys(config.categories).join(', ')})`, { field: 'category' });
  }
  if (!Object.hasOwn(config.categories, category)) {
    throw new InputError(`unknown category "${category}" (known: ${Object.keys(config.categories).join(', ')}): add it with "notify config set categories.${category}.transactional true|false"`, { field: 'category' });
  }
  return category;
}

/** Reads a YAML or JSON template file into a plain object; syntax errors name the line. */
export function parseTemplateSource(text: string): { value: unknown; lineOf(path: (string | number)[]): number | undefined } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line;
    const message = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new InputError(`not valid YAML or JSON: ${message}`, line !== undefined ? { line } : undefined);
  }
  const value: unknown = doc.toJS();
  return {
    value,
    lineOf(path) {
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n), true);
        if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
      }
      return undefined;
    },
  };
}

function fieldPath(path: (string | number)[]): string {
  return path.map(String).join('.') || '(root)';
}

/** Turns the first zod issue into an InputError naming the field (and the file line, when known). */
function schemaError(error: z.ZodError, lineOf?: (path: (string | number)[]) => number | undefined, prefix: (string | number)[] = []): InputError {
  const issue = error.issues[0]!;
  let path = [...prefix, ...issue.path];
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    path = [...path, issue.keys[0]!];
    message = `unknown key "${issue.keys[0]}": check the spelling (see "notify templates create --help")`;
  } else if (issue.code === 'invalid_type' && issue.received === 'undefined') {
    message = 'is required';
  }
  const line = lineOf?.(path);
  return new InputError(message, { ...(line !== undefined ? { line } : {}), field: fieldPath(path) });
}

/** Liquid `{{ ... }}` and `{% ... %}` blocks. */
const LIQUID_RE = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g;

/** Bytes of a push part's JSON with its Liquid removed: a lower bound on the payload the providers see. */
export function estimatePushBytes(part: Partial<PushPart>): number {
  const strip = (s: string) => s.replace(LIQUID_RE, '');
  const stripped = JSON.parse(JSON.stringify(part), (_k, v: unknown) => (typeof v === 'string' ? strip(v) : v)) as unknown;
  return Buffer.byteLength(JSON.stringify(stripped), 'utf8');
}

/** Every Liquid string of a part, with its field path inside the part (`data.deeplink`). */
function liquidFields(part: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(part)) {
    if (typeof value === 'string') out.push([key, value]);
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out.push([`${key}.${k}`, v]);
  }
  return out;
}

const USER_FIELDS = new Set(['id', 'name', 'email', 'phone', 'locale', 'timezone', 'attributes']);

function checkVariables(source: string, field: string): void {
  for (const segments of variableRoots(source)) {
    const [root, key] = segments;
    if (root !== 'user' && root !== 'data') {
      throw new InputError(`unknown variable "${segments.join('.')}": templates see user.* and data.* (for example {{ user.name }}, {{ data.${String(root)} }})`, { field });
    }
    if (root === 'user' && key !== undefined && !USER_FIELDS.has(String(key))) {
      throw new InputError(`unknown variable "user.${String(key)}": users have ${[...USER_FIELDS].join(', ')}; custom fields are under user.attributes (for example {{ user.attributes.${String(key)} }})`, { field });
    }
  }
}

function checkPart(channel: Channel, part: Record<string, unknown>, prefix: string): void {
  for (const [key, source] of liquidFields(part)) {
    const field = `${prefix}${channel}.${key}`;
    checkLiquid(source, field);
    checkVariables(source, field);
  }
}

/**
 * Checks a template file's object and returns the definition to store. Throws InputError naming the
 * field: unknown keys, an unknown category, Liquid syntax errors (with line and column inside the part),
 * a push payload that cannot fit 4 KB. Email parts without text get one derived from their HTML.
 */
export function validateTemplate(
  raw: unknown,
  config: Pick<Config, 'categories'>,
  options: { category?: string; lineOf?: (path: (string | number)[]) => number | undefined } = {},
): TemplateDef {
  const parsed = templateFileSchema.safeParse(raw ?? {});
  if (!parsed.success) throw schemaError(parsed.error, options.lineOf);
  const file = parsed.data;
  const def: TemplateDef = { category: checkCategory(options.category ?? file.category, config) };
  for (const channel of CHANNELS) if (file[channel]) (def as unknown as Record<string, unknown>)[channel] = file[channel];
  if (file.locales && Object.keys(file.locales).length) {
    def.locales = {};
    for (const [key, v] of Object.entries(file.locales)) {
      const lower = key.toLowerCase();
      if (def.locales[lower]) throw new InputError(`locale "${key}" is given twice`, { field: `locales.${key}` });
      def.locales[lower] = v;
    }
  }
  if (file.tracking) def.tracking = { opens: file.tracking.opens, clicks: file.tracking.clicks };

  const hasPart = CHANNELS.some((c) => def[c]) || Object.values(def.locales ?? {}).some((v) => CHANNELS.some((c) => v[c]));
  if (!hasPart) throw new InputError('a template needs at least one part: add push, sms or email to the file');

  if (def.email) checkEmail(def.email, 'email', options.lineOf);
  for (const channel of CHANNELS) if (def[channel]) checkPart(channel, def[channel] as Record<string, unknown>, '');
  checkPushSize(def.push, 'push');

  for (const [locale, v] of Object.entries(def.locales ?? {})) {
    const prefix = `locales.${locale}.`;
    // A variant's email HTML gets its own text, unless the variant gives one.
    if (v.email?.html !== undefined && v.email.text === undefined) v.email.text = deriveText(v.email.html);
    for (const channel of CHANNELS) {
      const own = v[channel];
      if (!own) continue;
      checkPart(channel, own as Record<string, unknown>, prefix);
      // The merged part must be complete: a variant may add a channel the default lacks.
      const schema = channel === 'push' ? pushPart : channel === 'sms' ? smsPart : emailPart;
      const merged = schema.safeParse(partFor(def, channel, locale));
      if (!merged.success) throw schemaError(merged.error, options.lineOf, ['locales', locale, channel]);
      if (channel === 'email') checkEmail(merged.data as EmailPart, `${prefix}email`, options.lineOf);
      if (channel === 'push') checkPushSize(merged.data as PushPart, `${prefix}push`);
    }
  }
  return def;
}

function checkEmail(part: EmailPart, field: string, lineOf?: (path: (string | number)[]) => number | undefined): void {
  if (part.html === undefined && part.text === undefined) {
    const line = lineOf?.(field.split('.'));
    throw new InputError('an email part needs html or text (or both)', { ...(line !== undefined ? { line } : {}), field });
  }
  if (part.text === undefined) part.text = deriveText(part.html!);
}

function checkPushSize(part: PushPart | undefined, field: string): void {
  if (!part) return;
  const bytes = estimatePushBytes(part);
  if (bytes > PUSH_PAYLOAD_LIMIT) {
    throw new InputError(`the push payload is ${bytes} bytes even with its variables removed; APNs and FCM accept at most ${PUSH_PAYLOAD_LIMIT}: shorten it or send less data`, { field });
  }
}

/** The channels a template has a part for, in the default or any locale. */
export function templateChannels(def: TemplateDef): Channel[] {
  return CHANNELS.filter((c) => def[c] || Object.values(def.locales ?? {}).some((v) => v[c]));
}
