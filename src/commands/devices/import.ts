import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { InputError, NotifyError } from '../../errors.js';
import { detectFormat, openSource, readRows, type CsvShape, type RawRow } from '../import-file.js';
import type { DeviceInput } from '../../store/devices.js';
import { positiveInt } from '../shared.js';

export interface ImportOptions {
  file: string;
  /** csv or jsonl; by default from the file's extension (.csv, .jsonl, .ndjson). */
  format?: 'csv' | 'jsonl';
  /** Rows per transaction. Default 1000. */
  batch?: number;
  json?: boolean;
}

export interface RowError { line: number; field?: string; reason: string }

export interface ImportResult {
  rows: number;
  /** Good rows written: created + moved + re-registered. */
  imported: number;
  created: number;
  moved: number;
  invalid: number;
  errors: RowError[];
}


const COLUMNS = ['user_id', 'platform', 'token', 'subscription'];

export function register(parent: Command, ctx: Ctx): void {
  parent.command('import <file>')
    .description('register devices from CSV (header row) or JSONL; bad rows are reported, good rows imported')
    .option('--format <format>', 'csv or jsonl (default: from the file extension)')
    .option('--batch <n>', 'rows per transaction (default 1000)', positiveInt)
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', `
Columns (CSV header) or keys (JSONL): user_id, platform (ios, android, web), token (ios, android) and
subscription (web: the subscription JSON; in CSV quote it). Users must exist already.

Every bad row is reported on stderr as "line N, field F: reason" and the exit code is 1; good rows are
still imported. A file that cannot be parsed at all writes nothing.

Examples:
  $ notify devices import devices.csv
  $ notify devices import devices.jsonl --json
  $ cat devices.csv | notify devices import - --format csv`)
    .action(ctx.action(async (deps, file: string, opts: Omit<ImportOptions, 'file'>) => {
      const result = await run({ file, ...opts }, deps);
      const { io } = deps;
      for (const e of result.errors) io.stderr.write(`line ${e.line}${e.field ? `, field "${e.field}"` : ''}: ${e.reason}\n`);
      if (opts.json) io.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else io.stdout.write(`Imported ${result.imported} of ${result.rows} devices: ${result.created} new, ${result.moved} moved to another user, ${result.invalid} invalid\n`);
      if (result.invalid > 0) throw new ImportRowsError(result.invalid);
    }));
}

/** Raised after printing, so the exit code says some rows were not imported. */
class ImportRowsError extends NotifyError {
  constructor(invalid: number) {
    super(`${invalid} row${invalid === 1 ? '' : 's'} rejected: fix them and import them again (devices are upserted by platform and token)`);
  }
}

export async function run(options: ImportOptions, deps: Deps): Promise<ImportResult> {
  const format = detectFormat(options.file, options.format);
  const source = await openSource(options.file, deps);
  // Parse the whole file first, so a file that cannot be parsed writes nothing.
  const rows: RawRow[] = [];
  for await (const row of readRows(source, format, DEVICE_CSV)) rows.push(row);

  const { normalizeDevice, reasonOf } = await import('./input.js');
  const store = await deps.store();
  const result: ImportResult = { rows: rows.length, imported: 0, created: 0, moved: 0, invalid: 0, errors: [] };
  const known = new Map<string, boolean>();
  const batchSize = options.batch ?? 1000;
  let batch: DeviceInput[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    for (const r of await store.devices.registerMany(batch)) {
      result.imported++;
      if (r.created) result.created++;
      if (r.moved) result.moved++;
    }
    batch = [];
  };
  for (const row of rows) {
    const bad = (error: Omit<RowError, 'line'>) => {
      result.invalid++;
      result.errors.push({ line: row.line, ...error });
    };
    if (typeof row.fields.__error === 'string') {
      bad({ reason: row.fields.__error });
      continue;
    }
    const userId = row.fields.user_id;
    if (typeof userId !== 'string' || !userId.trim()) {
      bad({ field: 'user_id', reason: 'is required' });
      continue;
    }
    if (!known.has(userId)) known.set(userId, (await store.users.get(userId)) !== undefined);
    if (!known.get(userId)) {
      bad({ field: 'user_id', reason: `no user "${userId}": add it first with "notify users add" or "notify users import"` });
      continue;
    }
    try {
      batch.push(normalizeDevice(userId, row.fields));
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      bad({ field: err.where?.field, reason: reasonOf(err) });
      continue;
    }
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return result;
}





/** Devices CSV: the known columns only; user_id and platform required; empty cells left out. */
const DEVICE_CSV: CsvShape = {
  checkHeader(header, line) {
    const unknown = header.filter((h) => !COLUMNS.includes(h));
    if (unknown.length) throw new InputError(`unknown column "${unknown[0]}": the columns are ${COLUMNS.join(', ')}; nothing was imported`, { line });
    for (const required of ['user_id', 'platform']) {
      if (!header.includes(required)) throw new InputError(`the CSV header has no "${required}" column; nothing was imported`, { line });
    }
  },
  toFields(header, record) {
    const fields: Record<string, unknown> = {};
    header.forEach((name, i) => {
      if (record[i] !== '') fields[name] = record[i];
    });
    return fields;
  },
};
