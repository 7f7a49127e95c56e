/**
 * Entry of the worker threads' bundle in the single executable (asset `worker.js`, built by
 * scripts/package.js): the executable has no module files to start a worker from, so a worker runs
 * this bundle from memory (src/sea.ts workerCode) and `workerData.kind` says which thread it is.
 */
import { workerData } from 'node:worker_threads';

const kind = (workerData as { kind?: string }).kind;
if (kind === 'checkpoint') void import('./store/checkpoint-worker.js');
else if (kind === 'sender') void import('./channels/sender-worker.js');
else void import('./daemon/api/worker.js');
