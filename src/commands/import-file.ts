/**
 * Reading an import file (users, devices): CSV with a header row or JSONL, from a path or stdin.
 * A file that cannot be parsed is an InputError before anything is written.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { Deps } from '../deps.js';
import { InputError, UsageError } from '../errors.js';
import { checkReadable } from './shared.js';

export type ImportFormat = 'csv' | 'jsonl';

/** A row as read, before validation; `fields.__error` marks a row that is broken as a row. */
export interface RawRow {
  line: number;
  fields: Record<string, unknown>;
}

/** How one importer reads CSV: checks the header, maps a record to fields. */
export interface CsvShape {
  checkHeader(header: string[], line: number): void;
  toFields(header: string[], record: string[]): Record<string, unknown>;
}

export function detectFormat(file: string, format?: string): ImportFormat {
  if (format) {
    if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`--format must be csv or jsonl, not "${format}"`);
    return format;
  }
  if (/\.csv$/i.test(file)) return 'csv';
  if (/\.(jsonl|ndjson)$/i.test(file)) return 'jsonl';
  throw new UsageError(`cannot tell the format of "${file}": name it .csv or .jsonl, or pass --format csv|jsonl`);
}

/** A source that can be read twice: a file path, or stdin buffered in memory. */
export type Source = { path: string } | { buffer: Buffer };

export async function openSource(file: string, deps: Deps): Promise<Source> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of deps.io.stdin) chunks.push(Buffer.from(chunk as Buffer));
    return { buffer: Buffer.concat(chunks) };
  }
  checkReadable(file);
  return { path: file };
}

function stream(source: Source): Readable {
  return 'path' in source ? createReadStream(source.path) : Readable.from([source.buffer]);
}

/** A stretch of a CSV file that starts and ends at record boundaries; `line` numbers its first byte. */
export interface Slice { start: number; end: number; line: number }

/** Part of a CSV file to read alone: the header's bytes, then one slice. */
export interface Part { header: Uint8Array; slice: Slice }

/** The bytes of a CSV part: the header (so columns are named), then the slice. */
function partStream(source: Source, part: Part): Readable {
  const { start, end } = part.slice;
  const body = 'path' in source
    ? (end > start ? createReadStream(source.path, { start, end: end - 1 }) : Readable.from([]))
    : Readable.from([source.buffer.subarray(start, end)]);
  return Readable.from((async function* () {
    yield Buffer.from(part.header);
    yield* body;
  })());
}

export async function* readRows(source: Source, format: ImportFormat, csv: CsvShape, part?: Part): AsyncGenerator<RawRow> {
  if (format === 'jsonl') {
    let line = 0;
    for await (const text of createInterface({ input: stream(source), crlfDelay: Infinity })) {
      line++;
      // A byte-order mark some editors write at the start, as the CSV reader skips it.
      const json = line === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
      if (!json.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(json);
      } catch (err) {
        throw new InputError(`not valid JSON (${(err as Error).message}); nothing was imported`, { line });
      }
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw new InputError('each line must be a JSON object; nothing was imported', { line });
      yield { line, fields: value as Record<string, unknown> };
    }
    return;
  }
  const { parse } = await import('csv-parse');
  // Lines of a part count from its slice's first line, past the header lines read before it.
  const headerLines = part ? part.header.reduce((n, b) => n + (b === 10 ? 1 : 0), 0) : 0;
  const shift = part ? part.slice.line - headerLines - 1 : 0;
  const parser = (part ? partStream(source, part) : stream(source)).pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true, relax_quotes: true, info: true, trim: true }));
  let header: string[] | undefined;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!header) {
        header = record.map((h) => h.trim());
        // Two columns of one name would leave one value behind; a nameless one has nowhere to go.
        const blank = header.indexOf('');
        if (blank >= 0) throw new InputError(`column ${blank + 1} of the header has no name: name it or remove it; nothing was imported`, { line: info.lines });
        const twice = header.find((h, i) => header!.indexOf(h) !== i);
        if (twice !== undefined) throw new InputError(`the header names column "${twice}" twice: keep one; nothing was imported`, { line: info.lines });
        csv.checkHeader(header, info.lines);
        continue;
      }
      if (record.length !== header.length) {
        yield { line: info.lines + shift, fields: { __error: `has ${record.length} columns, the header has ${header.length}` } };
        continue;
      }
      yield { line: info.lines + shift, fields: csv.toFields(header, record) };
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    const e = err as { code?: string; lines?: number; message: string };
    if (e.code?.startsWith('CSV_')) throw new InputError(`malformed CSV (${e.message}); nothing was imported`, { line: e.lines === undefined ? undefined : e.lines + shift });
    throw err;
  }
}

/** Where a CSV file's header ends and the slices of its records, from scanCsv. */
export interface CsvLayout { headerEnd: number; slices: Slice[] }

/**
 * Throws InputError when a quoted CSV field never closes — with relaxed quoting the one structural
 * error csv-parse would raise mid-import — so one pass can import without a partial write. Returns
 * where the header ends and the records cut into slices of about `sliceBytes`, each starting at a
 * record boundary (never inside a quoted field), so they can be parsed apart.
 */
export async function scanCsv(source: Source, sliceBytes = Infinity): Promise<CsvLayout> {
  let open = false;
  let line = 1;
  let openedAt = 0;
  let offset = 0; // of the chunk in the file
  let contentAt = -1; // the first byte that is not BOM or blank: the header starts there
  let headerEnd = -1;
  let sliceStart = 0;
  let sliceLine = 0;
  const slices: Slice[] = [];
  // A newline outside quotes at `pos` ends a record: the header's, or maybe a slice.
  const recordEnd = (pos: number) => {
    if (headerEnd < 0) {
      if (contentAt < 0 || pos < contentAt) return;
      headerEnd = sliceStart = pos + 1;
      sliceLine = line;
    } else if (pos + 1 - sliceStart >= sliceBytes) {
      slices.push({ start: sliceStart, end: pos + 1, line: sliceLine });
      sliceStart = pos + 1;
      sliceLine = line;
    }
  };
  for await (const chunk of stream(source) as AsyncIterable<Buffer>) {
    if (contentAt < 0) {
      for (let k = 0; k < chunk.length; k++) {
        const b = chunk[k]!;
        if (b !== 10 && b !== 13 && b !== 32 && b !== 9 && b !== 0xef && b !== 0xbb && b !== 0xbf) {
          contentAt = offset + k;
          break;
        }
      }
    }
    let i = 0;
    for (;;) {
      // Jump between quotes and newlines; a newline inside quotes is part of the field.
      const q = chunk.indexOf(34, i);
      const n = open ? -1 : chunk.indexOf(10, i);
      if (n !== -1 && (q === -1 || n < q)) {
        line++;
        recordEnd(offset + n);
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
    offset += chunk.length;
  }
  if (open) throw new InputError('malformed CSV (a quoted field is never closed); nothing was imported', { line: openedAt });
  if (headerEnd < 0) return { headerEnd: offset, slices: [] };
  if (offset > sliceStart) slices.push({ start: sliceStart, end: offset, line: sliceLine });
  return { headerEnd, slices };
}
