/** Worker thread of `users import`: reads and validates rows, posts them in batches. */
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../../config.js';
import { InputError } from '../../errors.js';
import type { ImportFormat, Source } from '../import-file.js';
import { checkedBatches } from './import-rows.js';

const data = workerData as { source: Source; format: ImportFormat; config: Config; batchSize: number };
const { format, config, batchSize } = data;
// A buffer crosses to the worker as a plain Uint8Array.
const source: Source = 'buffer' in data.source ? { buffer: Buffer.from(data.source.buffer) } : data.source;
try {
  for await (const batch of checkedBatches(source, format, config, batchSize)) parentPort!.postMessage({ batch });
  parentPort!.postMessage({ done: true });
} catch (err) {
  if (!(err instanceof InputError)) throw err;
  // The message already names line and field; pass the bare reason back with its place.
  const reason = err.where ? err.message.replace(/^[^:]*: /, '') : err.message;
  parentPort!.postMessage({ fatal: { message: reason, line: err.where?.line, field: err.where?.field } });
}
