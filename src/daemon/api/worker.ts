/**
 * The API thread (see thread.ts): its own store connection and logger, and the server. Started from this
 * file (npm install) or, in the bundled executable, from the `worker.js` asset (src/entry-worker.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../../core/time.js';
import type { Channel } from '../../core/types.js';
import { ConfigError } from '../../errors.js';
import { openStore, type Store } from '../../store/index.js';
import { createLogger } from '../logger.js';
import type { DaemonLink } from './link.js';
import { startApiServer, type ApiServer } from './server.js';
import type { ApiThreadData, FromApiThread, ToApiThread } from './thread.js';

const data = workerData as ApiThreadData;
const port = parentPort!;
const send = (message: FromApiThread) => port.postMessage(message);
const stopped = new Int32Array(data.stopped);
const metricsAnswers = new Map<number, (text: string) => void>();
let nextId = 0;

// Wake-ups of one commit's requests (they settle together) go over as one message.
let waking: Set<Channel> | 'all' | undefined;
function flushWake(): void {
  const channels = waking;
  waking = undefined;
  send({ type: 'wake', channels: channels === 'all' ? undefined : [...channels!] });
}

const link: DaemonLink = {
  wake(channels) {
    if (waking === undefined) {
      waking = new Set();
      queueMicrotask(flushWake);
    }
    if (!channels) waking = 'all';
    else if (waking !== 'all') for (const c of channels) waking.add(c);
  },
  metrics: () => new Promise((resolve) => {
    const id = ++nextId;
    metricsAnswers.set(id, resolve);
    send({ type: 'metrics', id });
  }),
  running: () => Atomics.load(stopped, 0) === 0,
};

let store: Store | undefined;
let api: ApiServer | undefined;

port.on('message', (m: ToApiThread) => {
  if (m.type === 'metrics') {
    metricsAnswers.get(m.id)?.(m.text);
    metricsAnswers.delete(m.id);
  } else if (m.type === 'close') {
    void (async () => {
      await api?.close().catch(() => undefined);
      await store?.close();
      send({ type: 'closed' });
      port.close();
    })();
  }
});

// Not a top-level await: the bundled executable runs this file as a CommonJS script (src/entry-worker.ts).
void (async () => {
  try {
    store = await openStore(data.storePath, systemClock);
    // The daemon's connection checkpoints the WAL (or its checkpointer does): every send committed here
    // is followed by the daemon's own commits of its claim and result.
    store.db.pragma('wal_autocheckpoint = 0');
    const logger = createLogger({ level: data.logLevel });
    api = await startApiServer({ config: data.config, store, clock: systemClock, daemon: link, logger, home: data.home, authCacheMs: data.authCacheMs });
    send({ type: 'listening', url: api.url });
  } catch (err) {
    await store?.close();
    send({ type: 'failed', message: (err as Error).message, config: err instanceof ConfigError });
    port.close();
  }
})();
