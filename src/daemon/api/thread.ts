/**
 * The API server on a thread of its own. HTTP parsing, authentication, validation and the commit of
 * each request's notification take a core's worth of work at a few thousand requests a second; on the
 * daemon's thread they shared one core with claiming, rendering and sending. On a worker thread the
 * API has its own event loop and its own SQLite connection (WAL lets the two write in turns, with
 * readers never blocked), and the daemon keeps its thread for deliveries.
 *
 * Between the threads: the worker asks the daemon to wake its lanes after each commit (a message),
 * asks for the daemon's metrics when /metrics is scraped (a message and its answer), and reads whether
 * the daemon still runs from a shared flag (no message to wait for). The worker logs through its own
 * logger to the same stdout.
 *
 * In the bundled executable the worker runs the `worker.js` asset from memory (src/entry-worker.ts).
 * Tests that need their own clock start the server on their thread with startApiServer and linkDaemon.
 */
import { Worker } from 'node:worker_threads';
import type { Config } from '../../config.js';
import type { Channel } from '../../core/types.js';
import { ConfigError } from '../../errors.js';
import { isBundle, workerCode } from '../../sea.js';
import type { Store } from '../../store/index.js';
import type { Daemon } from '../daemon.js';
import type { Logger } from '../logger.js';
import { linkDaemon } from './link.js';
import type { ApiServer } from './server.js';

export interface ApiThreadOptions {
  config: Config;
  /** The home: TLS file paths are relative to it. */
  home: string;
  /** The daemon's store: the worker opens its own connection to the same database. */
  store: Store;
  daemon: Daemon;
  logger: Logger;
  /** The API thread's log level. Default info. */
  logLevel?: string;
  /** See ApiServerOptions.authCacheMs. */
  authCacheMs?: number;
  /** The API thread died after it started (an uncaught error): the daemon should stop and exit non-zero. */
  onFailure?: (err: Error) => void;
}

/** What the daemon's thread tells the API thread. */
export type ToApiThread = { type: 'metrics'; id: number; text: string } | { type: 'close' };
/** What the API thread tells the daemon's thread. */
export type FromApiThread =
  | { type: 'listening'; url: string }
  | { type: 'failed'; message: string; config: boolean }
  | { type: 'wake'; channels?: Channel[] }
  | { type: 'metrics'; id: number }
  | { type: 'closed' };

/** What the worker is started with. `stopped` holds one Int32: 1 once the daemon stopped. */
export interface ApiThreadData {
  config: Config;
  home: string;
  storePath: string;
  logLevel: string;
  authCacheMs?: number;
  stopped: SharedArrayBuffer;
}

/** How long close() waits for the worker to close its server and connection before ending it. */
const CLOSE_TIMEOUT_MS = 10_000;

export async function startApiThread(options: ApiThreadOptions): Promise<ApiServer> {
  const { daemon, logger } = options;
  const link = linkDaemon(daemon);

  const stopped = new SharedArrayBuffer(4);
  const flag = new Int32Array(stopped);
  const onStopped = () => Atomics.store(flag, 0, 1);
  daemon.on('stopped', onStopped);
  const data: ApiThreadData = {
    config: options.config, home: options.home, storePath: options.store.path, logLevel: options.logLevel ?? 'info',
    authCacheMs: options.authCacheMs, stopped,
  };
  const worker = isBundle()
    ? new Worker(workerCode('worker.js'), { eval: true, workerData: { ...data, kind: 'api' } })
    : new Worker(new URL('./worker.js', import.meta.url), { workerData: data });
  let listening = false;
  let closing: Promise<void> | undefined;
  const send = (message: ToApiThread) => worker.postMessage(message);
  worker.on('message', (m: FromApiThread) => {
    if (m.type === 'wake') link.wake(m.channels);
    else if (m.type === 'metrics') {
      link.metrics().then((text) => send({ type: 'metrics', id: m.id, text }), (err: Error) => send({ type: 'metrics', id: m.id, text: `# daemon metrics failed: ${err.message}\n` }));
    }
  });
  const release = () => {
    daemon.off('stopped', onStopped);
    link.close();
  };
  let failed = false;
  const fail = (err: Error) => {
    if (!listening || closing || failed) return;
    failed = true;
    logger.error({ err: err.message }, 'the API thread failed');
    options.onFailure?.(err);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the API thread exited (code ${code})`)));

  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      worker.on('message', (m: FromApiThread) => {
        if (m.type === 'listening') resolve(m.url);
        else if (m.type === 'failed') reject(m.config ? new ConfigError(m.message) : new Error(m.message));
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the API thread exited (code ${code}) before it listened`)));
    });
  } catch (err) {
    release();
    await worker.terminate();
    throw err;
  }
  listening = true;

  return {
    url,
    close() {
      closing ??= (async () => {
        try {
          const closed = new Promise<void>((resolve) => {
            worker.on('message', (m: FromApiThread) => m.type === 'closed' && resolve());
            worker.once('exit', () => resolve());
          });
          send({ type: 'close' });
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)))]);
          clearTimeout(timer);
          await worker.terminate();
        } finally {
          release();
        }
      })();
      return closing;
    },
  };
}
