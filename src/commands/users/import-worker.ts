/**
 * Worker thread of `users import`: reads and validates rows, posts them in batches. Given slices of
 * a CSV file it reads those (tagging each batch with its slice); otherwise the whole source. It stays
 * at most WINDOW batches ahead of the writer, which acknowledges each one.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../../config.js';
import { InputError } from '../../errors.js';
import type { ImportFormat, Slice, Source } from '../import-file.js';
import { checkedBatches, type CheckedBatch } from './import-rows.js';

export interface ImportWorkerData {
  source: Source;
  format: ImportFormat;
  config: Config;
  batchSize: number;
  /** CSV slices to read, by index, with the header's bytes. */
  parts?: { header: Uint8Array; slices: { index: number; slice: Slice }[] };
}

export type ImportWorkerMessage =
  | { slice?: number; batch: CheckedBatch }
  | { slice: number; end: true }
  | { done: true }
  | { fatal: { message: string; line?: number; field?: string } };

// More than a slice holds (2 MB is about six batches), so a worker can finish its slice while the writer
// is still on the one before; at most this many batches of each worker wait in memory.
const WINDOW = 8;
const data = workerData as ImportWorkerData;
const { format, config, batchSize } = data;
// A buffer crosses to the worker as a plain Uint8Array.
const source: Source = 'buffer' in data.source ? { buffer: Buffer.from(data.source.buffer) } : data.source;

let ahead = 0;
let credit: (() => void) | undefined;
parentPort!.on('message', () => {
  ahead--;
  credit?.();
});

async function post(message: ImportWorkerMessage & { batch: CheckedBatch }): Promise<void> {
  while (ahead >= WINDOW) await new Promise<void>((resolve) => (credit = resolve));
  ahead++;
  parentPort!.postMessage(message);
}

try {
  if (data.parts) {
    const { header, slices } = data.parts;
    for (const { index, slice } of slices) {
      for await (const batch of checkedBatches(source, format, config, batchSize, { header, slice })) await post({ slice: index, batch });
      parentPort!.postMessage({ slice: index, end: true } satisfies ImportWorkerMessage);
    }
  } else {
    for await (const batch of checkedBatches(source, format, config, batchSize)) await post({ batch });
  }
  parentPort!.postMessage({ done: true } satisfies ImportWorkerMessage);
  parentPort!.unref();
} catch (err) {
  if (!(err instanceof InputError)) throw err;
  // The message already names line and field; pass the bare reason back with its place.
  const reason = err.where ? err.message.replace(/^[^:]*: /, '') : err.message;
  parentPort!.postMessage({ fatal: { message: reason, line: err.where?.line, field: err.where?.field } } satisfies ImportWorkerMessage);
  parentPort!.unref();
}
