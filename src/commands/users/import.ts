import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { InputError, NotifyError } from '../../errors.js';
import { detectFormat, openSource, readRows, scanCsv, type CsvShape, type RawRow } from '../import-file.js';
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
  const format = detectFormat(options.file, options.format);
  const config = await deps.config();
  const source = await openSource(options.file, deps);
  const batchSize = options.batch ?? 5000;
  const result: ImportResult = { rows: 0, inserted: 0, updated: 0, invalid: 0, dryRun: Boolean(options.dryRun), errors: [] };

  // A file that cannot be parsed writes nothing: CSV gets a quick scan for an unclosed quote (the
  // one structural error left with relaxed quoting); JSONL, --strict and --dry-run a full first pass.
  const validateFirst = Boolean(options.strict || options.dryRun);
  if (format === 'csv' && !validateFirst) await scanCsv(source);
  else for await (const row of readRows(source, format, USER_CSV)) {
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
  for await (const row of readRows(source, format, USER_CSV)) {
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






/** Users CSV: `id` required; user fields by name; every other column an attribute. */
const USER_CSV: CsvShape = {
  checkHeader(header, line) {
    if (!header.includes('id')) throw new InputError('the CSV header has no "id" column; nothing was imported', { line });
  },
  toFields(header, record) {
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
    return fields;
  },
};

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
