/**
 * Where `templates create` and `templates update` get a definition: a YAML or JSON file, stdin (`-`),
 * or questions on a terminal. Returns the checked definition; nothing is written here.
 */
import type { Deps } from '../../deps.js';
import { InputError, UsageError } from '../../errors.js';
import type { TemplateDef } from '../../core/template.js';
import { readInput } from '../shared.js';

export interface SourceOptions {
  /** YAML or JSON file; `-` reads stdin. */
  file?: string;
  /** Overrides the file's category. */
  category?: string;
  /** The category to keep when neither the file nor --category gives one (update). */
  fallbackCategory?: string;
}

export interface LoadedTemplate {
  /** The `name` key of the file, when it has one. */
  fileName?: string;
  def: TemplateDef;
}


export async function loadTemplate(options: SourceOptions, deps: Deps): Promise<LoadedTemplate> {
  const [{ parseTemplateSource, validateTemplate }, config] = await Promise.all([import('../../core/template.js'), deps.config()]);
  let raw: unknown;
  let lineOf: ((path: (string | number)[]) => number | undefined) | undefined;
  if (options.file !== undefined) {
    const parsed = parseTemplateSource(await readInput(options.file, deps));
    raw = parsed.value;
    lineOf = parsed.lineOf;
  } else if (deps.io.inIsTTY && deps.io.isTTY) {
    raw = await ask(deps, options.category ?? options.fallbackCategory ?? 'transactional');
  } else {
    throw new UsageError('pass --file F (YAML or JSON; - reads stdin), or run on a terminal to be asked');
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InputError('a template file must hold a mapping (an object) with category and push, sms or email');
  const { name, ...rest } = raw as Record<string, unknown>;
  if (name !== undefined && typeof name !== 'string') throw new InputError('must be text', { field: 'name' });
  const category = options.category ?? (rest.category === undefined ? options.fallbackCategory : undefined);
  const def = validateTemplate(rest, config, { category, lineOf });
  return { fileName: name as string | undefined, def };
}

/** A short interview: category, then each channel's main fields; an empty answer skips a channel. */
async function ask(deps: Deps, defaultCategory: string): Promise<Record<string, unknown>> {
  const p = deps.prompter;
  const raw: Record<string, unknown> = { category: (await p.input('Category', defaultCategory)).trim() };
  const title = await p.input('Push title (empty: no push)', '');
  if (title.trim()) raw.push = { title, body: await p.input('Push body', '') };
  const sms = await p.input('SMS body (empty: no SMS)', '');
  if (sms.trim()) raw.sms = { body: sms };
  const subject = await p.input('Email subject (empty: no email)', '');
  if (subject.trim()) raw.email = { subject, html: await p.input('Email HTML', '') };
  return raw;
}

/** The template name from the argument and the file, which must agree when both are given. */
export function resolveName(arg: string | undefined, fromFile: string | undefined): string {
  if (arg && fromFile && arg !== fromFile) {
    throw new UsageError(`the name "${arg}" differs from the file's name "${fromFile}": pass the same name or drop one`);
  }
  const name = arg ?? fromFile;
  if (!name) throw new UsageError('name the template: notify templates create NAME --file F (or put "name:" in the file)');
  return name;
}
