/**
 * The dispatch daemon: claims due deliveries under a lease, feeds each provider's lane, renders at
 * dispatch from the stored template version, and writes results back in batches.
 *
 * Events (for tests and the live view): `delivered`, `retry`, `dead`, `lease:reclaimed`, `idle`, `stopped`, `failed` (a sender thread died).
 */
import { EventEmitter } from 'node:events';
import { availableParallelism, hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import { decide } from '../core/retry.js';
import { CHANNEL_PROVIDERS, PROVIDERS, type Channel, type ProviderKey, type User, type WebPushSubscription } from '../core/types.js';
import type { Clock } from '../core/time.js';
import type { Store } from '../store/index.js';
import type { ClaimedDelivery, Outcome } from '../store/outbox.js';
import type { NotificationContent } from '../store/notifications.js';
import { createAdapter, laneSettings } from '../channels/index.js';
import type { SenderThread } from '../channels/sender.js';
import { DeliveryError, type ChannelAdapter, type OutboundMessage } from '../channels/types.js';
import { Lane, type LaneStatus } from './lane.js';
import { Alerter } from './alerts.js';
import { Scheduler } from './scheduler.js';
import { AnalyticsForwarder } from './analytics.js';
import { StatusReader } from './status-reader.js';
import { Checkpointer } from '../store/checkpointer.js';
import { QuietHoursGate } from './quiet.js';
import type { Renderer } from './render.js';
import type { Logger } from './logger.js';

export interface DaemonOptions {
  home: string;
  config: Config;
  store: Store;
  clock: Clock;
  logger: Logger;
  renderer: Renderer;
  /** Lease owner name. Default host:pid:random. */
  owner?: string;
  /** Jitter source for backoff. Default Math.random. */
  random?: () => number;
  /** Milliseconds to wait for in-flight sends on stop. Default 15000. */
  drainTimeoutMs?: number;
  /** Milliseconds before a send is abandoned as a retryable timeout. Default 30000. */
  sendTimeoutMs?: number;
}

export interface DaemonStatus {
  owner: string;
  /** Where the HTTP API listens, when it runs. */
  api: string | null;
  pid: number;
  startedAt: number;
  uptimeMs: number;
  state: 'starting' | 'running' | 'draining' | 'stopped';
  lanes: (LaneStatus & { due: number; retrying: number; oldestDueAgeMs: number | null })[];
  campaigns: { id: string; template: string; total: number; done: number; sent: number; dead: number; ratePerSec: number; etaSeconds: number | null }[];
  lastErrors: { at: number; provider: string; deliveryId: number; error: string }[];
  /** The providers each sender thread runs (empty: every adapter runs in the main thread). */
  senderThreads: ProviderKey[][];
}

/** The daemon connection's SQLite page cache, in KiB. */
const DAEMON_CACHE_KB = 4096;
/**
 * Sender threads by default from this many cores. On one thread, a saturated event loop starves the
 * lanes whose sends take several round trips: in the design day's mix on 2 cores (bench/channels.ts, 1.6M
 * deliveries), email fell to 8/s while push drained and the whole took 1,100 s; with the threads, email
 * kept 490-700/s and the whole took 715 s. With one core, the hops between threads only add waits.
 */
const SENDER_THREAD_MIN_CORES = 2;

export class Daemon extends EventEmitter {
  readonly owner: string;
  /** Set by whoever starts the HTTP API beside the daemon. */
  apiUrl: string | null = null;
  private lanes = new Map<ProviderKey, Lane>();
  private adapters = new Map<ProviderKey, ChannelAdapter>();
  private results: Outcome[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private loopDone: Promise<void> | undefined;
  private state: DaemonStatus['state'] = 'starting';
  private startedAt = 0;
  private notifications = new Map<string, NotificationContent>();
  private quiet: QuietHoursGate;
  private lastErrors: DaemonStatus['lastErrors'] = [];
  private alerter: Alerter;
  readonly scheduler: Scheduler;
  readonly analytics: AnalyticsForwarder;
  private statusReader: StatusReader | undefined;
  private checkpointer: Checkpointer | undefined;
  private senders: SenderThread[] = [];
  private closed = false;

  constructor(private options: DaemonOptions) {
    super();
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.alerter = new Alerter(options.config, options.clock, options.logger, () => this.adapters.get('email'));
    this.quiet = new QuietHoursGate(options.config);
    this.analytics = new AnalyticsForwarder(options.config, options.store, options.logger);
    this.scheduler = new Scheduler({ store: options.store, config: options.config, clock: options.clock, logger: options.logger, owner: this.owner, onWork: () => this.wake() });
  }

  async start(): Promise<void> {
    const { config, home, logger } = this.options;
    this.startedAt = this.options.clock.now();
    // Claims read the left edge of the due index and results write the rows just claimed: a small
    // page cache holds that working set (16 MB, the store's default, added RSS and no speed).
    this.options.store.db.pragma(`cache_size = -${DAEMON_CACHE_KB}`);
    this.checkpointer = new Checkpointer(this.options.store.db, this.options.store.path, {
      onFallBack: (reason) => logger.warn({ reason }, 'WAL checkpoints run in the daemon\'s commits again: the checkpoint thread is gone'),
    });
    // Real providers' SDKs run on sender threads unless config keeps them here; `log` always stays.
    const real = (config.daemon.senderThread ?? availableParallelism() >= SENDER_THREAD_MIN_CORES) ? PROVIDERS.filter((p) => config.channels[p].provider !== 'log') : [];
    if (real.length) {
      const { SenderThread, SENDER_GROUPS } = await import('../channels/sender.js');
      for (const group of SENDER_GROUPS) {
        const providers = group.filter((p) => real.includes(p));
        if (!providers.length) continue;
        const started = await SenderThread.start(providers, config, {
          home,
          warn: (provider, m) => logger.warn({ provider }, m),
          onFailure: (err) => {
            logger.error({ err: err.message, providers }, 'a sender thread failed: its sends fail as retryable until the daemon restarts');
            this.emit('failed', err);
          },
        });
        this.senders.push(started.thread);
        for (const [provider, adapter] of started.adapters) this.adapters.set(provider, adapter);
      }
    }
    for (const provider of PROVIDERS) {
      const adapter = this.adapters.get(provider) ?? await createAdapter(provider, config, { home, warn: (m) => logger.warn({ provider }, m) });
      this.adapters.set(provider, adapter);
      const lane = new Lane({ provider, adapterName: adapter.name, ...laneSettings(config, provider) });
      lane.onDrain(() => this.kick());
      this.lanes.set(provider, lane);
    }
    const reclaimEvery = Math.min(5000, Math.max(100, Math.floor(config.daemon.leaseMs / 4)));
    this.timers.push(setInterval(() => void this.reclaim(), reclaimEvery));
    this.timers.push(setInterval(() => void this.finishCampaigns(), 2000));
    this.timers.push(setInterval(() => this.sweep(), 1000));
    this.timers.push(setInterval(() => void this.scheduler.tick().catch((err: Error) => logger.error({ err: err.message }, 'scheduler pass failed')), config.scheduler.tickMs));
    this.alerter.start();
    await this.analytics.start();
    await this.reclaim();
    await this.scheduler.tick().catch((err: Error) => logger.error({ err: err.message }, 'scheduler pass failed'));
    this.state = 'running';
    this.loopDone = this.loop();
  }

  /**
   * Claim now instead of at the next poll (new work was committed): on every lane, or only on the
   * lanes of these channels (a lane with nothing new stays idle, and is not asked again).
   */
  wake(channels?: readonly Channel[]): void {
    if (channels) {
      for (const channel of channels) for (const provider of CHANNEL_PROVIDERS[channel]) {
        const lane = this.lanes.get(provider);
        if (lane) lane.idleUntil = 0;
      }
    } else for (const lane of this.lanes.values()) lane.idleUntil = 0;
    this.kick();
  }

  /** Runs the claim loop now, leaving idle lanes idle (a lane drained below its low-water mark). */
  private kick(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private async loop(): Promise<void> {
    const { config, store } = this.options;
    while (this.state === 'running') {
      this.woken = false;
      let claimed = 0;
      const now = Date.now();
      for (const [provider, lane] of this.lanes) {
        const room = lane.room;
        if (room <= 0 || lane.idleUntil > now) continue;
        let rows: ClaimedDelivery[];
        try {
          rows = await store.outbox.claim(provider, this.owner, Math.min(room, config.daemon.claimBatch), config.daemon.leaseMs);
        } catch (err) {
          this.options.logger.error({ err: (err as Error).message, provider }, 'claim failed; retrying');
          rows = [];
        }
        if (rows.length) {
          claimed += rows.length;
          await this.dispatch(lane, rows);
        } else {
          // Nothing due on this lane: do not ask again before the next poll or wake-up.
          lane.idleUntil = now + config.daemon.pollMs;
        }
      }
      if (this.state !== 'running') break;
      if (claimed === 0 && !this.woken) {
        if (this.idleLanes()) this.emit('idle');
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, config.daemon.pollMs);
          this.wakeUp = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wakeUp = undefined;
      } else {
        // Let sends and result writes run between claims.
        await new Promise((r) => setImmediate(r));
      }
    }
  }

  private idleLanes(): boolean {
    for (const lane of this.lanes.values()) if (lane.load > 0) return false;
    return this.results.length === 0;
  }

  private async dispatch(lane: Lane, rows: ClaimedDelivery[]): Promise<void> {
    const { store } = this.options;
    const missing = [...new Set(rows.map((r) => r.notificationId))].filter((id) => !this.notifications.has(id));
    if (missing.length) {
      if (this.notifications.size > 10_000) this.notifications.clear();
      const loaded = await store.notifications.contents(missing);
      for (const n of loaded) this.notifications.set(n.id, n);
      await this.options.renderer.prepare(loaded);
    }
    const users = await store.outbox.getUsers([...new Set(rows.map((r) => r.userId))]);
    const webDevices = rows.filter((r) => r.provider === 'webpush' && r.deviceId !== null).map((r) => r.deviceId!);
    const subscriptions = webDevices.length ? await store.outbox.getSubscriptions(webDevices) : new Map();
    const adapter = this.adapters.get(lane.options.provider)!;
    const now = this.options.clock.now();
    for (const row of rows) {
      const n = this.notifications.get(row.notificationId);
      const user = users.get(row.userId);
      const hold = user && this.quiet.holdUntil(row.category, user, now);
      if (hold !== undefined) {
        this.push({ type: 'defer', id: row.id, nextAt: hold, reason: `quiet hours until ${new Date(hold).toISOString()}`, at: now });
        continue;
      }
      if (!n || !user) {
        this.fail(lane, row, !n
          ? new DeliveryError('permanent', 'NOTIFICATION_MISSING', `notification ${row.notificationId} is gone`)
          : new DeliveryError('permanent', 'USER_MISSING', `user ${row.userId} was removed`));
        continue;
      }
      // Rendered when its turn comes, not now: the lane's window holds claimed rows, and a rendered
      // message lives only as long as its send.
      const subscription = subscriptions.get(row.deviceId ?? -1);
      lane.add(row.id, row.priority, () => this.send(lane, adapter, row, n, user, subscription));
    }
  }

  private async send(lane: Lane, adapter: ChannelAdapter, row: ClaimedDelivery, n: NotificationContent, user: User, subscription: WebPushSubscription | undefined): Promise<void> {
    let message: OutboundMessage;
    try {
      message = this.options.renderer.message(row, n, user, subscription);
    } catch (err) {
      this.fail(lane, row, err);
      return;
    }
    // A controller only for adapters that read the signal (the log provider never does), aborted by
    // the lane's sweep when overdue: a timer per send would keep hundreds of thousands alive at full speed.
    const inFlight: { startedAt: number; controller?: AbortController } = { startedAt: Date.now() };
    lane.inFlight.add(inFlight);
    const options = { get signal() { return (inFlight.controller ??= new AbortController()).signal; } };
    try {
      const { providerId } = await adapter.send(message, options);
      const at = this.options.clock.now();
      lane.sent.add(at);
      this.push({ type: 'sent', id: row.id, providerId, at });
      this.emit('delivered', { id: row.id, channel: row.channel, provider: row.provider, providerId, attempt: row.attempt, createdAt: row.createdAt, at });
    } catch (err) {
      this.fail(lane, row, inFlight.controller?.signal.aborted && !(err instanceof DeliveryError)
        ? new DeliveryError('retryable', 'TIMEOUT', `no answer from ${row.provider} within ${this.options.sendTimeoutMs ?? 30_000} ms`) : err);
    } finally {
      lane.inFlight.delete(inFlight);
    }
  }

  /** Aborts sends that have waited longer than the send timeout. */
  private sweep(): void {
    const limit = Date.now() - (this.options.sendTimeoutMs ?? 30_000);
    for (const lane of this.lanes.values()) {
      for (const f of lane.inFlight) if (f.startedAt < limit) f.controller?.abort(new Error('send timeout'));
    }
  }

  private fail(lane: Lane, row: ClaimedDelivery, err: unknown): void {
    const { clock, config } = this.options;
    const error = err instanceof DeliveryError ? err
      : new DeliveryError('retryable', (err as { code?: string }).code ?? 'ERROR', (err as Error)?.message ?? String(err));
    const at = clock.now();
    const text = `${error.kind}: ${error.code}: ${error.message}`;
    this.lastErrors.unshift({ at, provider: row.provider, deliveryId: row.id, error: text });
    this.lastErrors.length = Math.min(this.lastErrors.length, 20);
    const decision = decide(row.attempt, { kind: error.kind, retryAfterMs: error.retryAfterMs }, at, row.createdAt, config.retry, (this.options.random ?? Math.random)());
    if (decision.action === 'retry') {
      lane.failed.add(at);
      this.push({ type: 'retry', id: row.id, nextAt: decision.at, error: text, at });
      this.emit('retry', { id: row.id, channel: row.channel, provider: row.provider, attempt: row.attempt, nextAt: decision.at, error: text });
      return;
    }
    lane.dead.add(at);
    const outcome: Outcome = { type: 'dead', id: row.id, error: text, at };
    if (decision.action === 'deactivate') {
      if (row.deviceId !== null) outcome.deactivateDevice = { deviceId: row.deviceId, reason: `${row.provider}: ${error.code}` };
      else if (row.address) outcome.suppress = { channel: row.channel, address: row.address, reason: `${row.provider}: ${error.code}` };
    } else if (error.action === 'opt-out') {
      outcome.optOut = { userId: row.userId, channel: row.channel };
    } else {
      this.alerter.dead(row, text);
    }
    this.push(outcome);
    this.emit('dead', { id: row.id, channel: row.channel, provider: row.provider, attempt: row.attempt, error: text, reason: decision.action === 'dead' ? decision.reason : 'invalid-address' });
  }

  private push(outcome: Outcome): void {
    this.results.push(outcome);
    if (this.results.length >= 500) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), this.options.config.daemon.flushMs);
  }

  /** Writes pending results in one transaction; calls are serialised. */
  flush(): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    this.flushing = this.flushing.then(async () => {
      const batch = this.results;
      if (batch.length === 0) return;
      this.results = [];
      try {
        await this.options.store.outbox.record(batch);
      } catch (err) {
        // Keep them for the next flush: a locked database must not lose results.
        this.results.unshift(...batch);
        this.options.logger.error({ err: (err as Error).message, count: batch.length }, 'writing results failed; will retry');
        this.flushTimer ??= setTimeout(() => void this.flush(), 200);
      }
    });
    return this.flushing;
  }

  private async reclaim(): Promise<void> {
    try {
      const ids = await this.options.store.outbox.reclaimStale();
      if (ids.length) {
        this.options.logger.warn({ count: ids.length }, 'reclaimed deliveries whose lease expired');
        this.emit('lease:reclaimed', ids);
        this.wake();
      }
    } catch (err) {
      this.options.logger.error({ err: (err as Error).message }, 'reclaim failed');
    }
  }

  private async finishCampaigns(): Promise<void> {
    try {
      await this.options.store.notifications.completeFinished();
    } catch (err) {
      this.options.logger.error({ err: (err as Error).message }, 'marking finished notifications failed');
    }
  }

  /**
   * Graceful stop: no more claims; sends not yet started are released to the queue; in-flight sends
   * get `drainTimeoutMs` to finish; results are written. Safe to call twice.
   */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.state = 'draining';
    this.wakeUp?.();
    await this.loopDone;
    const released: number[] = [];
    for (const lane of this.lanes.values()) released.push(...lane.clearWaiting());
    const drain = Promise.all([...this.lanes.values()].map((l) => l.queue.onIdle()));
    const timeout = new Promise((r) => setTimeout(r, this.options.drainTimeoutMs ?? 15_000).unref());
    await Promise.race([drain, timeout]);
    for (const timer of this.timers) clearInterval(timer);
    const steps: [string, () => Promise<unknown>][] = [
      ['finish the scheduler pass', () => this.scheduler.settle()],
      ['flush results', () => this.flush()],
      ['release unsent', () => this.options.store.outbox.release(released, this.owner)],
      ['flush alerts', () => this.alerter.stop()],
      ['stop analytics forwarding', () => this.analytics.stop()],
      ['stop the status reader', async () => this.statusReader?.close()],
      ['stop the checkpointer', async () => this.checkpointer?.close()],
      ...[...this.adapters].map(([p, a]) => [`close ${p}`, () => a.close()] as [string, () => Promise<unknown>]),
      ['stop the sender threads', () => Promise.all(this.senders.map((t) => t.close()))],
    ];
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (err) {
        this.options.logger.error({ err: (err as Error).message }, `shutdown step failed: ${name}`);
      }
    }
    this.state = 'stopped';
    this.emit('stopped', { released: released.length });
  }

  /** The providers each sender thread runs (empty: every adapter runs in the main thread). */
  get senderThreads(): ProviderKey[][] {
    return this.senders.map((t) => t.providers);
  }

  async status(): Promise<DaemonStatus> {
    const now = this.options.clock.now();
    this.statusReader ??= new StatusReader(this.options.store, this.checkpointer);
    const reading = await this.statusReader.read(now);
    const depths = new Map(reading.depths.map((d) => [d.provider, d]));
    const lanes = [...this.lanes.values()].map((lane) => {
      const d = depths.get(lane.options.provider);
      return { ...lane.status(now), due: d?.due ?? 0, retrying: d?.retrying ?? 0, oldestDueAgeMs: d?.oldestDueAt ? now - d.oldestDueAt : null };
    });
    const totalRate = lanes.reduce((s, l) => s + l.sentPerSec, 0);
    const campaigns = reading.campaigns.map((c) => ({
      ...c, ratePerSec: totalRate, etaSeconds: totalRate > 0 ? Math.round((c.total - c.done) / totalRate) : null,
    }));
    return {
      owner: this.owner, api: this.apiUrl, pid: process.pid, startedAt: this.startedAt, uptimeMs: now - this.startedAt, state: this.state,
      lanes, campaigns, lastErrors: this.lastErrors.slice(0, 10), senderThreads: this.senderThreads,
    };
  }
}
