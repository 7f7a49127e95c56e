import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { Worker } from 'node:worker_threads';
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { InputError, NotifyError } from '../../errors.js';
import { detectFormat, openSource, readRows, scanCsv, type CsvLayout, type ImportFormat, type Source } from '../import-file.js';
import type { ImportWorkerData, ImportWorkerMessage } from './import-worker.js';
import { check, checkedBatches, USER_CSV, type CheckedBatch, type RowError } from './import-rows.js';
import { isBundle } from '../../sea.js';
import { Progress } from '../../io.js';
import type { Config } from '../../config.js';
import { positiveInt } from '../shared.js';
import { writeExtras } from './import-extras.js';

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

export type { RowError } from './import-rows.js';

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
  let layout: CsvLayout | undefined;
  if (format === 'csv' && !validateFirst) layout = await scanCsv(source, SLICE_BYTES);
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
  for await (const batch of validatedBatches(source, format, config, batchSize, layout ?? (format === 'csv' ? await scanCsv(source, SLICE_BYTES) : undefined))) {
    result.rows += batch.rows;
    result.invalid += batch.errors.length;
    result.errors.push(...batch.errors);
    if (batch.users.length) {
      const counts = await store.users.upsertMany(batch.users);
      if (batch.extras.length) await writeExtras(store, batch.extras, deps.clock.now());
      result.inserted += counts.inserted;
      result.updated += counts.updated;
    }
    progress.update(result.rows);
  }
  progress.done();
  return result;
}

/** Worker threads for a big CSV: one per core, up to three (the writer needs a share of the CPU too). */
function workerCount(): number {
  return Math.max(1, Math.min(availableParallelism(), 3));
}

/** CSV slices of about this size are read by the workers in turn; a smaller file has one. */
const SLICE_BYTES = 2 * 1024 * 1024;

/**
 * Validated batches from worker threads, so parsing and validation overlap the writes; in the
 * single executable (no worker script beside it) on this thread. A CSV file is cut into slices at
 * record boundaries (from the scan) and the workers take them in turn; batches are yielded in file
 * order all the same, so when an id appears twice the later row wins, as in a sequential import.
 */
async function* validatedBatches(source: Source, format: ImportFormat, config: Config, batchSize: number, layout?: CsvLayout): AsyncGenerator<CheckedBatch> {
  if (isBundle()) {
    yield* checkedBatches(source, format, config, batchSize);
    return;
  }
  const base = { source, format, config, batchSize };
  const sliced = layout && layout.slices.length > 1;
  const count = sliced ? Math.min(workerCount(), layout.slices.length) : 1;
  let header: Uint8Array | undefined;
  if (sliced) header = await readHeader(source, layout.headerEnd);
  const workers: Worker[] = [];
  // Per slice (or -1 for an unsliced source): its batches as they arrive, and whether it is complete.
  const slices = new Map<number, { batches: { batch: CheckedBatch; from: Worker }[]; ended: boolean }>();
  const sliceOf = (i: number) => slices.get(i) ?? (slices.set(i, { batches: [], ended: false }), slices.get(i)!);
  let finished = 0;
  let failure: Error | undefined;
  let notify: (() => void) | undefined;
  for (let w = 0; w < count; w++) {
    const data: ImportWorkerData = sliced
      ? { ...base, parts: { header: header!, slices: layout.slices.map((slice, index) => ({ index, slice })).filter(({ index }) => index % count === w) } }
      : base;
    const worker = new Worker(new URL('./import-worker.js', import.meta.url), { workerData: data });
    workers.push(worker);
    worker.on('message', (m: ImportWorkerMessage) => {
      if ('batch' in m) sliceOf(m.slice ?? -1).batches.push({ batch: m.batch, from: worker });
      else if ('end' in m) sliceOf(m.slice).ended = true;
      else if ('done' in m) {
        finished++;
        if (!sliced) sliceOf(-1).ended = true;
      } else failure ??= new InputError(m.fatal.message, m.fatal.line !== undefined || m.fatal.field !== undefined ? { line: m.fatal.line, field: m.fatal.field } : undefined);
      notify?.();
    });
    worker.on('error', (err) => {
      failure ??= err;
      notify?.();
    });
  }
  try {
    const order = sliced ? layout.slices.map((_, i) => i) : [-1];
    for (const index of order) {
      const slice = sliceOf(index);
      for (;;) {
        if (failure) throw failure;
        const next = slice.batches.shift();
        if (next) {
          next.from.postMessage('ack');
          yield next.batch;
          continue;
        }
        if (slice.ended) break;
        if (finished === count) throw new Error(`import worker ended without reading slice ${index}`);
        await new Promise<void>((resolve) => (notify = resolve));
        notify = undefined;
      }
      slices.delete(index);
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** The first `end` bytes of the source: a CSV file's header, read once for every worker. */
async function readHeader(source: Source, end: number): Promise<Uint8Array> {
  if ('buffer' in source) return source.buffer.subarray(0, end);
  const handle = await open(source.path, 'r');
  try {
    const bytes = Buffer.alloc(end);
    let read = 0;
    while (read < end) {
      const { bytesRead } = await handle.read(bytes, read, end - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return bytes.subarray(0, read);
  } finally {
    await handle.close();
  }
}
