/**
 * Adapters on a thread of their own. A real provider's SDK spends most of a delivery's CPU (TLS records,
 * HTTP/2 frames, web push's ECDH and AES-GCM, MIME): on the daemon's main thread it competed with claims,
 * rendering and bookkeeping for one core. `SenderThread` runs the configured real providers' adapters
 * in one worker (./sender-worker.ts) and hands the daemon one `ChannelAdapter` per provider that
 * forwards each send and resolves with the worker's answer, so lanes, limits, retries and the error
 * tables work unchanged. Sends and answers cross in batches, one message per event-loop turn each way.
 *
 * The `log` provider stays on the main thread (it only appends to a file). If the thread dies, every
 * send in flight and after fails as retryable (nothing is lost: rows go back to the outbox) and
 * `onFailure` hears it; the daemon then stops with exit code 1 for its supervisor to restart it.
 */
import { Worker } from 'node:worker_threads';
import type { Config } from '../config.js';
import type { ProviderKey } from '../core/types.js';
import { ConfigError } from '../errors.js';
import { isBundle, workerCode } from '../sea.js';
import { DeliveryError, type ChannelAdapter, type DeliveryErrorKind, type OutboundMessage, type SendResult } from './types.js';

export interface SenderData {
  kind: 'sender';
  providers: ProviderKey[];
  config: unknown;
  home: string;
}

export interface SentAnswer {
  id: number;
  providerId?: string;
  error?:
    | { delivery: true; kind: DeliveryErrorKind; code: string; message: string; options: DeliveryError['options'] }
    | { delivery: false; name: string; message: string; code?: string };
}

export type ToSender =
  | { type: 'send'; sends: { id: number; provider: ProviderKey; message: OutboundMessage }[] }
  | { type: 'abort'; id: number }
  | { type: 'close' };

export type FromSender =
  | { type: 'ready'; names: Partial<Record<ProviderKey, string>> }
  | { type: 'failed'; provider: ProviderKey; name: string; message: string }
  | { type: 'warn'; provider: ProviderKey; message: string }
  | { type: 'answers'; answers: SentAnswer[] }
  | { type: 'closed' };

export interface SenderContext {
  /** The notify home (credential paths are relative to it). */
  home: string;
  /** An adapter's operator-facing warning. */
  warn(provider: ProviderKey, message: string): void;
  /** The thread died (not called for close()). */
  onFailure?(err: Error): void;
}

interface Pending {
  resolve(result: SendResult): void;
  reject(err: Error): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * Which providers share a thread. Push SDKs answer in one round trip per send, while an SMTP message
 * takes several (MAIL, RCPT, DATA, the message): behind a busy push event loop each of them waited, and
 * email starved while push drained. So messages (SMS, email) get a thread of their own.
 */
export const SENDER_GROUPS: ProviderKey[][] = [['apns', 'fcm', 'webpush'], ['sms', 'email']];

/** How long close() waits for the adapters to close their connections before ending the thread. */
const CLOSE_TIMEOUT_MS = 10_000;

function errorFrom(e: NonNullable<SentAnswer['error']>): Error {
  if (e.delivery) return new DeliveryError(e.kind, e.code, e.message, e.options);
  return Object.assign(new Error(e.message), { name: e.name, ...(e.code ? { code: e.code } : {}) });
}

export class SenderThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #queued: { id: number; provider: ProviderKey; message: OutboundMessage }[] = [];
  #flushing = false;
  #dead: Error | undefined;
  #closing: Promise<void> | undefined;

  private constructor(worker: Worker, readonly providers: ProviderKey[], private readonly onFailure: (err: Error) => void) {
    this.#worker = worker;
  }

  /** Starts the thread and creates `providers`' adapters in it; rejects as createAdapter would. */
  static async start(providers: ProviderKey[], config: Config, ctx: SenderContext): Promise<{ thread: SenderThread; adapters: Map<ProviderKey, ChannelAdapter> }> {
    const data: SenderData = { kind: 'sender', providers, config, home: ctx.home };
    const worker = isBundle()
      ? new Worker(workerCode('worker.js'), { eval: true, workerData: data })
      : new Worker(new URL('./sender-worker.js', import.meta.url), { workerData: data });
    const thread = new SenderThread(worker, providers, ctx.onFailure ?? (() => undefined));
    const names = await new Promise<Partial<Record<ProviderKey, string>>>((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`the sender thread exited at start (code ${code})`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.on('message', function first(m: FromSender) {
        if (m.type === 'warn') return ctx.warn(m.provider, m.message);
        worker.off('message', first);
        worker.off('error', reject);
        worker.off('exit', onExit);
        if (m.type === 'ready') return resolve(m.names);
        if (m.type === 'failed') {
          void worker.terminate();
          return reject(m.name === 'ConfigError' ? new ConfigError(m.message) : new Error(m.message));
        }
        reject(new Error(`the sender thread said ${m.type} before it was ready`));
      });
    });
    thread.#listen(ctx);
    const adapters = new Map<ProviderKey, ChannelAdapter>();
    for (const provider of providers) adapters.set(provider, thread.#adapter(provider, names[provider] ?? provider));
    return { thread, adapters };
  }

  #listen(ctx: SenderContext): void {
    const worker = this.#worker;
    worker.on('message', (m: FromSender) => {
      if (m.type === 'answers') {
        for (const a of m.answers) this.#settle(a);
      } else if (m.type === 'warn') {
        ctx.warn(m.provider, m.message);
      }
    });
    worker.on('error', (err) => this.#die(err));
    worker.on('exit', (code) => this.#die(new Error(`the sender thread exited (code ${code})`)));
  }

  #die(err: Error): void {
    if (this.#dead) return;
    this.#dead = err;
    const lost = new DeliveryError('retryable', 'SENDER_THREAD', `the sender thread stopped: ${err.message}`);
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      p.reject(lost);
    }
    if (!this.#closing) this.onFailure(err);
  }

  #settle(a: SentAnswer): void {
    const p = this.#pending.get(a.id);
    if (!p) return;
    this.#pending.delete(a.id);
    if (p.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
    if (a.error) p.reject(errorFrom(a.error));
    else p.resolve({ providerId: a.providerId! });
  }

  #flush = (): void => {
    this.#flushing = false;
    const sends = this.#queued;
    this.#queued = [];
    if (sends.length && !this.#dead) this.#worker.postMessage({ type: 'send', sends } satisfies ToSender);
  };

  #adapter(provider: ProviderKey, name: string): ChannelAdapter {
    return {
      name,
      send: (message, options) => this.#send(provider, message, options.signal),
      // The thread's adapters close together, in close().
      close: async () => undefined,
    };
  }

  #send(provider: ProviderKey, message: OutboundMessage, signal: AbortSignal | undefined): Promise<SendResult> {
    if (this.#closing || this.#dead) {
      return Promise.reject(new DeliveryError('retryable', 'CLOSED', `the ${provider} adapter is closed`));
    }
    if (signal?.aborted) return Promise.reject(new DeliveryError('retryable', 'ABORTED', `${provider} send aborted`));
    const id = this.#nextId++;
    return new Promise<SendResult>((resolve, reject) => {
      const pending: Pending = { resolve, reject };
      if (signal) {
        pending.signal = signal;
        // The adapter in the thread is aborted too; the send fails here at once, whatever it does.
        pending.onAbort = () => {
          this.#pending.delete(id);
          if (!this.#dead) this.#worker.postMessage({ type: 'abort', id } satisfies ToSender);
          reject(signal.reason instanceof Error ? signal.reason : new Error('send aborted'));
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.#pending.set(id, pending);
      this.#queued.push({ id, provider, message });
      if (!this.#flushing) {
        this.#flushing = true;
        setImmediate(this.#flush);
      }
    });
  }

  /** Sends in flight when the daemon has drained; 0 normally. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Closes every adapter in the thread (their pools and sessions), then ends it. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#dead) return;
      this.#flush();
      const closed = new Promise<void>((resolve) => {
        const onMessage = (m: FromSender) => {
          if (m.type === 'closed') resolve();
        };
        this.#worker.on('message', onMessage);
        this.#worker.once('exit', () => resolve());
      });
      this.#worker.postMessage({ type: 'close' } satisfies ToSender);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)))]);
      clearTimeout(timer);
      await this.#worker.terminate();
    })();
    return this.#closing;
  }
}
