import { createReadStream, existsSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { InputError, NotifyError, UsageError } from '../../errors.js';
import { normalizeUser, USER_FIELDS } from '../../core/user.js';
import { inferValue } from '../../core/validate.js';
import { Progress } from '../../io.js';
import type { UserInput } from '../../store/users.js';
import type { Config } from '../../config.js';
import { positiveInt } from '../shared.js';
import { normalizeExtras, writeExtras, type UserExtras } from './import-extras.js';

export interface ImportOptions {
  file: string;
  /** csv or jsonl; by default from the file's extension (.csv, .jsonl, .ndjson). */
  format?: 'csv' | 'jsonl';
  /** Any bad row aborts the import with nothing written. */
  strict?: boolean;
  /** Validate only; write nothing. */
  dryRun?: boolean;
  /** Rows per transaction. Default 5000. */
  batch?: number;
  json?: boolean;
}

export interface RowError { line: number; field?: string; reason: string }

export interface ImportResult {
  rows: number;
  inserted: number;
  updated: number;
  invalid: number;
  dryRun: boolean;
  errors: RowError[];
}

/** A row as read from the file, before validation. */
interface RawRow { line: number; fields: Record<string, unknown> }

export function register(parent: Command, ctx: Ctx): void {
  parent.command('import <file>')
    .description('upsert users from CSV (header row) or JSONL; bad rows are reported, good rows imported')
    .option('--format <format>', 'csv or jsonl (default: from the file extension)')
    .option('--strict', 'abort with nothing written if any row is bad')
    .option('--dry-run', 'validate only; write nothing')
    .option('--batch <n>', 'rows per transaction (default 5000)', positiveInt)
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', `
CSV: the header names columns; id is required; name, email, phone, locale and timezone are user fields;
any other column becomes an attribute (numbers, true/false and JSON arrays are read as such).
JSONL: one object per line with the same fields, plus "attributes", "devices" ([{platform, token} or
{platform: "web", subscription}]) and "preferences" ([{channel, category?, optIn}]).

Rows are upserted by id in batches. With bad rows the good ones are still imported (unless --strict),
every bad row is reported on stderr as "line N, field F: reason", and the exit code is 1.
A file that cannot be parsed at all (unclosed quote, broken JSON) writes nothing.

Examples:
  $ notify users import users.csv
  $ notify users import users.jsonl --strict
  $ cat users.csv | notify users import - --format csv --dry-run`)
    .action(ctx.action(async (deps, file: string, opts: Omit<ImportOptions, 'file'>) => {
      const result = await run({ file, ...opts }, deps);
      const { io } = deps;
      for (const e of result.errors) io.stderr.write(`line ${e.line}${e.field ? `, field "${e.field}"` : ''}: ${e.reason}\n`);
      if (opts.json) io.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else io.stdout.write(`${result.dryRun ? 'Checked' : 'Imported'} ${result.rows} rows: ${result.inserted} new, ${result.updated} updated, ${result.invalid} invalid${result.dryRun ? ' (dry run: nothing written)' : ''}\n`);
      if (result.invalid > 0) {
        throw new ImportRowsError(result.invalid, result.dryRun || (opts.strict ?? false));
      }
    }));
}

/** Raised after printing, so the exit code says some rows were not imported. */
class ImportRowsError extends NotifyError {
  constructor(invalid: number, nothingWritten: boolean) {
    super(`${invalid} row${invalid === 1 ? '' : 's'} rejected${nothingWritten ? '; nothing was written' : ''}: fix them and import the file again (rows are upserted)`);
  }
}

export async function run(options: ImportOptions, deps: Deps): Promise<ImportResult> {
  const format = detectFormat(options);
  const config = await deps.config();
  const source = await openSource(options.file, deps);
  const batchSize = options.batch ?? 5000;
  const result: ImportResult = { rows: 0, inserted: 0, updated: 0, invalid: 0, dryRun: Boolean(options.dryRun), errors: [] };

  // A file that cannot be parsed writes nothing: CSV gets a quick scan for an unclosed quote (the
  // one structural error left with relaxed quoting); JSONL, --strict and --dry-run a full first pass.
  const validateFirst = Boolean(options.strict || options.dryRun);
  if (format === 'csv' && !validateFirst) await scanCsv(source);
  else for await (const row of readRows(source, format)) {
    result.rows++;
    if (validateFirst) {
      const checked = check(row, config);
      if ('error' in checked) {
        result.invalid++;
        result.errors.push(checked.error);
      } else if (options.dryRun) {
        // Counted as new or updated against what is stored, as the import would.
        const store = await deps.store();
        if (await store.users.get(checked.user.id)) result.updated++;
        else result.inserted++;
      }
    }
  }
  if (options.dryRun || (options.strict && result.invalid > 0)) return result;

  const store = await deps.store();
  const progress = new Progress(deps.io, 'Importing');
  result.rows = 0;
  let users: UserInput[] = [];
  let extras: UserExtras[] = [];
  const flush = async () => {
    if (users.length === 0) return;
    const counts = await store.users.upsertMany(users);
    if (extras.length) await writeExtras(store, extras, deps.clock.now());
    result.inserted += counts.inserted;
    result.updated += counts.updated;
    users = [];
    extras = [];
    progress.update(result.rows);
  };
  for await (const row of readRows(source, format)) {
    result.rows++;
    const checked = check(row, config);
    if ('error' in checked) {
      result.invalid++;
      result.errors.push(checked.error);
      continue;
    }
    users.push(checked.user);
    if (checked.extras) extras.push(checked.extras);
    if (users.length >= batchSize) await flush();
  }
  await flush();
  progress.done();
  return result;
}

/** Throws InputError when a quoted CSV field never closes (csv-parse would fail there mid-import). */
async function scanCsv(source: Source): Promise<void> {
  let open = false;
  let line = 1;
  let openedAt = 0;
  for await (const chunk of stream(source) as AsyncIterable<Buffer>) {
    let i = 0;
    for (;;) {
      // Jump between quotes and newlines; a newline inside quotes is part of the field.
      const q = chunk.indexOf(34, i);
      const n = open ? -1 : chunk.indexOf(10, i);
      if (n !== -1 && (q === -1 || n < q)) {
        line++;
        i = n + 1;
        continue;
      }
      if (q === -1) {
        if (open) for (let k = i; k < chunk.length; k++) if (chunk[k] === 10) line++;
        break;
      }
      if (open) for (let k = i; k < q; k++) if (chunk[k] === 10) line++;
      open = !open;
      if (open) openedAt = line;
      i = q + 1;
    }
  }
  if (open) throw new InputError('malformed CSV (a quoted field is never closed); nothing was imported', { line: openedAt });
}

function detectFormat(options: ImportOptions): 'csv' | 'jsonl' {
  if (options.format) {
    if (options.format !== 'csv' && options.format !== 'jsonl') throw new UsageError(`--format must be csv or jsonl, not "${options.format}"`);
    return options.format;
  }
  if (/\.csv$/i.test(options.file)) return 'csv';
  if (/\.(jsonl|ndjson)$/i.test(options.file)) return 'jsonl';
  throw new UsageError(`cannot tell the format of "${options.file}": name it .csv or .jsonl, or pass --format csv|jsonl`);
}

/** A source that can be read twice: a file path, or stdin buffered in memory. */
type Source = { path: string } | { buffer: Buffer };

async function openSource(file: string, deps: Deps): Promise<Source> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of deps.io.stdin) chunks.push(Buffer.from(chunk as Buffer));
    return { buffer: Buffer.concat(chunks) };
  }
  if (!existsSync(file) || !statSync(file).isFile()) throw new InputError(`cannot read "${file}": no such file`);
  return { path: file };
}

function stream(source: Source): Readable {
  return 'path' in source ? createReadStream(source.path) : Readable.from([source.buffer]);
}

async function* readRows(source: Source, format: 'csv' | 'jsonl'): AsyncGenerator<RawRow> {
  if (format === 'jsonl') {
    const lines = createInterface({ input: stream(source), crlfDelay: Infinity });
    let line = 0;
    for await (const text of lines) {
      line++;
      if (!text.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw new InputError(`not valid JSON (${(err as Error).message}); nothing was imported`, { line });
      }
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw new InputError('each line must be a JSON object; nothing was imported', { line });
      yield { line, fields: value as Record<string, unknown> };
    }
    return;
  }
  const { parse } = await import('csv-parse');
  const parser = stream(source).pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true, relax_quotes: true, info: true, trim: true }));
  let header: string[] | undefined;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!header) {
        header = record.map((h) => h.trim());
        if (!header.includes('id')) throw new InputError('the CSV header has no "id" column; nothing was imported', { line: info.lines });
        continue;
      }
      if (record.length !== header.length) {
        yield { line: info.lines, fields: { __error: `has ${record.length} columns, the header has ${header.length}` } };
        continue;
      }
      const fields: Record<string, unknown> = {};
      const attributes: Record<string, unknown> = {};
      header.forEach((name, i) => {
        const cell = record[i]!;
        if ((USER_FIELDS as readonly string[]).includes(name)) fields[name] = cell;
        else {
          const value = inferValue(cell);
          if (value !== undefined) attributes[name] = value;
        }
      });
      if (Object.keys(attributes).length) fields.attributes = attributes;
      yield { line: info.lines, fields };
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    const e = err as { code?: string; lines?: number; message: string };
    if (e.code?.startsWith('CSV_')) throw new InputError(`malformed CSV (${e.message}); nothing was imported`, { line: e.lines });
    throw err;
  }
}

type Checked = { user: UserInput; extras?: UserExtras } | { error: RowError };

function check(row: RawRow, config: Config): Checked {
  if (typeof row.fields.__error === 'string') return { error: { line: row.line, reason: row.fields.__error } };
  const { devices, preferences, attributes, ...rest } = row.fields;
  // JSONL keys that are not user fields become attributes, like CSV columns.
  const extraAttrs: Record<string, unknown> = {};
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) {
    if ((USER_FIELDS as readonly string[]).includes(k)) fields[k] = v;
    else extraAttrs[k] = v;
  }
  if (attributes !== undefined || Object.keys(extraAttrs).length) {
    fields.attributes = attributes === undefined ? extraAttrs
      : (attributes && typeof attributes === 'object' && !Array.isArray(attributes) ? { ...extraAttrs, ...attributes } : attributes);
  }
  try {
    const user = normalizeUser(fields, config.defaults);
    const extras = devices !== undefined || preferences !== undefined ? normalizeExtras(user.id, devices, preferences, Object.keys(config.categories)) : undefined;
    return { user, extras };
  } catch (err) {
    if (err instanceof InputError) {
      const reason = err.where ? err.message.replace(/^[^:]*: /, '') : err.message;
      return { error: { line: row.line, field: err.where?.field, reason } };
    }
    throw err;
  }
}
