/**
 * The sender thread: the real providers' SDKs (TLS, HTTP/2, web push encryption, MIME) run here, on a
 * core of their own, while the daemon's main thread claims, renders and records. Messages arrive and
 * answers leave in batches (one postMessage per event-loop turn each way). See ./sender.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config.js';
import type { ProviderKey } from '../core/types.js';
import { createAdapter } from './index.js';
import { DeliveryError, type ChannelAdapter } from './types.js';
import type { FromSender, SenderData, SentAnswer, ToSender } from './sender.js';

const data = workerData as SenderData;
const port = parentPort!;
const adapters = new Map<ProviderKey, ChannelAdapter>();
const inFlight = new Map<number, { controller?: AbortController }>();
let answers: SentAnswer[] = [];
let flushing = false;

function post(message: FromSender): void {
  port.postMessage(message);
}

function answer(a: SentAnswer): void {
  answers.push(a);
  if (flushing) return;
  flushing = true;
  setImmediate(() => {
    flushing = false;
    const batch = answers;
    answers = [];
    post({ type: 'answers', answers: batch });
  });
}

function describe(err: unknown): SentAnswer['error'] {
  if (err instanceof DeliveryError) return { delivery: true, kind: err.kind, code: err.code, message: err.message, options: err.options };
  const e = err as { name?: string; message?: string; code?: unknown };
  return { delivery: false, name: e?.name ?? 'Error', message: e?.message ?? String(err), code: typeof e?.code === 'string' ? e.code : undefined };
}

async function send(id: number, provider: ProviderKey, message: Parameters<ChannelAdapter['send']>[0]): Promise<void> {
  const entry: { controller?: AbortController } = {};
  inFlight.set(id, entry);
  // A controller only when the adapter reads the signal, as on the main thread.
  const options = { get signal() { return (entry.controller ??= new AbortController()).signal; } };
  try {
    const adapter = adapters.get(provider);
    if (!adapter) throw new DeliveryError('retryable', 'NO_ADAPTER', `the sender thread has no ${provider} adapter`);
    const { providerId } = await adapter.send(message, options);
    answer({ id, providerId });
  } catch (err) {
    answer({ id, error: describe(err) });
  } finally {
    inFlight.delete(id);
  }
}

port.on('message', (m: ToSender) => {
  switch (m.type) {
    case 'send':
      for (const s of m.sends) void send(s.id, s.provider, s.message);
      break;
    case 'abort':
      inFlight.get(m.id)?.controller?.abort(new Error('send timeout'));
      break;
    case 'close':
      void Promise.all([...adapters.values()].map((a) => a.close().catch(() => undefined))).then(() => {
        post({ type: 'closed' });
        port.close();
      });
      break;
  }
});

async function main(): Promise<void> {
  const config = data.config as Config;
  for (const provider of data.providers) {
    try {
      adapters.set(provider, await createAdapter(provider, config, { home: data.home, warn: (message) => post({ type: 'warn', provider, message }) }));
    } catch (err) {
      const e = err as Error;
      post({ type: 'failed', provider, name: e.name, message: e.message });
      return;
    }
  }
  post({ type: 'ready', names: Object.fromEntries([...adapters].map(([p, a]) => [p, a.name])) });
}

void main();
