/**
 * Prometheus metrics for GET /metrics (prom-client), in two registries: the daemon's (DaemonMetrics, on
 * the daemon's thread), fed by its events (`delivered`, `retry`, `dead`) and by `daemon.status()` at
 * scrape time (queue depths); and the API server's requests (RequestMetrics, on the API's thread).
 * /metrics answers with both.
 *
 * | metric                                   | type      | labels                     |
 * |------------------------------------------|-----------|----------------------------|
 * | notify_deliveries_total                  | counter   | channel, provider, outcome (sent, retry, dead) |
 * | notify_delivery_retries_total            | counter   | channel, provider          |
 * | notify_dead_letters_total                | counter   | channel, provider, reason  |
 * | notify_send_latency_seconds              | histogram | channel, provider: delivery created -> provider accepted |
 * | notify_queue_depth                       | gauge     | provider, state (due, retrying, in_lane, in_flight) |
 * | notify_api_requests_total                | counter   | method, route, status      |
 * | notify_api_request_duration_seconds      | histogram | method, route              |
 * | notify_process_* / notify_nodejs_*       | default process metrics |                  |
 *
 * Counters count from this daemon's start (Prometheus handles resets).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Daemon } from '../daemon.js';

interface DeliveredEvent { channel: string; provider: string; createdAt: number; at: number }
interface RetryEvent { channel: string; provider: string }
interface DeadEvent { channel: string; provider: string; reason?: string }

/** Seconds; the first buckets resolve the API-to-provider target (p50 10 ms, p99 50 ms). */
const LATENCY_BUCKETS = [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600];
const API_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The daemon's side: deliveries, retries, dead letters, send latency, queue depths, process metrics. */
export class DaemonMetrics {
  readonly registry = new Registry();
  private deliveries: Counter<'channel' | 'provider' | 'outcome'>;
  private retries: Counter<'channel' | 'provider'>;
  private dead: Counter<'channel' | 'provider' | 'reason'>;
  private latency: Histogram<'channel' | 'provider'>;
  private listeners: [string, (...args: any[]) => void][] = [];

  constructor(private daemon: Daemon) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'notify_' });
    this.deliveries = new Counter({ name: 'notify_deliveries_total', help: 'Delivery attempts by outcome: sent, retry (failed, will retry) or dead', labelNames: ['channel', 'provider', 'outcome'], registers });
    this.retries = new Counter({ name: 'notify_delivery_retries_total', help: 'Failed attempts scheduled for a retry', labelNames: ['channel', 'provider'], registers });
    this.dead = new Counter({ name: 'notify_dead_letters_total', help: 'Deliveries given up (dead letters), by reason', labelNames: ['channel', 'provider', 'reason'], registers });
    this.latency = new Histogram({ name: 'notify_send_latency_seconds', help: 'From a delivery being written to its provider accepting it', labelNames: ['channel', 'provider'], buckets: LATENCY_BUCKETS, registers });
    new Gauge({
      name: 'notify_queue_depth', help: 'Deliveries per lane: due in the database, waiting to retry, held in the lane, in flight',
      labelNames: ['provider', 'state'], registers,
      async collect() {
        const status = await daemon.status();
        this.reset();
        for (const lane of status.lanes) {
          this.set({ provider: lane.provider, state: 'due' }, lane.due);
          this.set({ provider: lane.provider, state: 'retrying' }, lane.retrying);
          this.set({ provider: lane.provider, state: 'in_lane' }, lane.queued);
          this.set({ provider: lane.provider, state: 'in_flight' }, lane.inFlight);
        }
      },
    });
    // Per delivery: the series of each (channel, provider) are looked up once, not hashed per call.
    const sent = new Map<string, { count: { inc(): void }; latency: { observe(v: number): void } }>();
    this.on('delivered', (e: DeliveredEvent) => {
      const key = `${e.channel} ${e.provider}`;
      let s = sent.get(key);
      if (!s) {
        s = { count: this.deliveries.labels(e.channel, e.provider, 'sent'), latency: this.latency.labels(e.channel, e.provider) };
        sent.set(key, s);
      }
      s.count.inc();
      s.latency.observe(Math.max(0, e.at - e.createdAt) / 1000);
    });
    this.on('retry', (e: RetryEvent) => {
      this.deliveries.inc({ channel: e.channel, provider: e.provider, outcome: 'retry' });
      this.retries.inc({ channel: e.channel, provider: e.provider });
    });
    this.on('dead', (e: DeadEvent) => {
      this.deliveries.inc({ channel: e.channel, provider: e.provider, outcome: 'dead' });
      this.dead.inc({ channel: e.channel, provider: e.provider, reason: e.reason ?? 'unknown' });
    });
  }

  private on<E>(event: string, fn: (e: E) => void): void {
    this.daemon.on(event, fn);
    this.listeners.push([event, fn as (...args: any[]) => void]);
  }

  /** Prometheus text. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Stops listening to the daemon. Safe to call twice. */
  close(): void {
    for (const [event, fn] of this.listeners) this.daemon.off(event, fn);
    this.listeners = [];
    this.registry.clear();
  }
}

/** The API server's side: requests by route and status, and their handling time. */
export class RequestMetrics {
  readonly registry = new Registry();
  private requests: Counter<'method' | 'route' | 'status'>;
  private requestSeconds: Histogram<'method' | 'route'>;

  constructor() {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'notify_api_requests_total', help: 'API requests by route and status', labelNames: ['method', 'route', 'status'], registers });
    this.requestSeconds = new Histogram({ name: 'notify_api_request_duration_seconds', help: 'API request handling time', labelNames: ['method', 'route'], buckets: API_BUCKETS, registers });
  }

  /** The series of each (method, route, status) seen: prom-client hashes a label set on every call otherwise. */
  private series = new Map<string, { count: { inc(): void }; time: { observe(v: number): void } }>();

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let s = this.series.get(key);
    if (!s) {
      s = { count: this.requests.labels(method, route, String(status)), time: this.requestSeconds.labels(method, route) };
      // Routes are fastify's patterns (or "(unmatched)"), so the set is small; bound it all the same.
      if (this.series.size < 1000) this.series.set(key, s);
    }
    s.count.inc();
    s.time.observe(seconds);
  }

  /** Prometheus text. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  close(): void {
    this.series.clear();
    this.registry.clear();
  }
}
