/**
 * API benchmark (on demand, never in `npm test`): a daemon in this process with the API on its thread (as `notify daemon start` runs it), load from a
 * second process over keep-alive HTTP (node's http.Agent).
 *
 * 1. Latency on an idle daemon: one request at a time, a pause between; from the client sending
 *    POST /v1/notifications to the log provider having accepted the delivery (the daemon's `delivered`
 *    event). Both processes stamp times with performance.timeOrigin + performance.now(). Targets:
 *    p50 <= 10 ms, p99 <= 50 ms.
 * 2. Throughput: `connections` concurrent keep-alive connections posting for `seconds`; accepted (202)
 *    requests per second. Target >= 5,000/s on a 2-core machine. Deliveries run meanwhile.
 *
 *   npm run build && node dist/bench/api.js [--requests 500] [--seconds 10] [--connections 64]
 */
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadConfig, writeRawConfig } from '../src/config.js';
import { validateTemplate } from '../src/core/template.js';
import { systemClock } from '../src/core/time.js';
import { startApiThread } from '../src/daemon/api/thread.js';
import { Daemon } from '../src/daemon/daemon.js';
import { silentLogger } from '../src/daemon/logger.js';
import { Renderer } from '../src/daemon/render.js';
import { openStore } from '../src/store/index.js';
import { atLeast, atMost, cpuMicros, type Metrics, type Target } from './common.js';
import { postNotification } from './http.js';

export interface ApiBenchOptions {
  /** Sequential requests for the latency phase. Default 500. */
  requests?: number;
  /** Length of the throughput phase. Default 10 s. */
  seconds?: number;
  /** Concurrent keep-alive connections in the throughput phase. Default 64. */
  connections?: number;
  /** Users in the home. Default 10,000. */
  users?: number;
}

export interface ApiBenchResult {
  latency: { requests: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number };
  throughput: {
    seconds: number; connections: number; accepted: number; failed: number; acceptedPerSec: number;
    /** CPU time of this process (every thread: daemon, API, GC helpers) per accepted request. */
    serverCpuUsPerRequest: number;
  };
}

type ClientJob =
  | { phase: 'latency'; url: string; auth: string; requests: number; users: number }
  | { phase: 'throughput'; url: string; auth: string; seconds: number; connections: number; users: number };

type ClientResult =
  | { phase: 'latency'; sent: { id: string; at: number }[]; failed: number }
  | { phase: 'throughput'; accepted: number; failed: number; elapsedMs: number };

const now = () => performance.timeOrigin + performance.now();

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function userId(i: number): string {
  return `u${String(i).padStart(6, '0')}`;
}

// ---- the load generator (second process) ----

async function client(job: ClientJob): Promise<ClientResult> {
  const url = new URL(job.url);
  const agent = new Agent({ keepAlive: true, maxSockets: job.phase === 'throughput' ? job.connections : 1 });
  const prefix = `${process.pid}-${Date.now()}`;
  let n = 0;
  const body = () => JSON.stringify({ event_id: `${prefix}-${n}`, template: 'note', user_id: userId(n++ % job.users), channels: ['email'], data: { text: 'bench' } });
  try {
    if (job.phase === 'latency') {
      const sent: { id: string; at: number }[] = [];
      let failed = 0;
      for (let i = 0; i < job.requests; i++) {
        const at = now();
        const r = await postNotification(agent, url, job.auth, body());
        if (r.status === 202) sent.push({ id: (JSON.parse(r.text) as { id: string }).id, at });
        else failed++;
        // Let the daemon go idle again: this phase measures an idle daemon.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return { phase: 'latency', sent, failed };
    }
    // autocannon (pipelined keep-alive HTTP/1.1 written for load generation) spends far less CPU per
    // request than node's http client, which shares this 2-core machine with the daemon under test.
    const { default: autocannon } = await import('autocannon');
    const start = now();
    const result = await autocannon({
      url: job.url, connections: job.connections, duration: job.seconds,
      requests: [{ method: 'POST', path: '/v1/notifications', headers: { authorization: job.auth, 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: body() }) }],
    });
    const accepted = (result.statusCodeStats as Record<string, { count: number } | undefined>)['202']?.count ?? 0;
    // Requests still in flight when the time is up are neither.
    const failed = result.non2xx + result.errors + result.timeouts;
    return { phase: 'throughput', accepted, failed, elapsedMs: now() - start };
  } finally {
    agent.destroy();
  }
}

function runClient(job: ClientJob): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--client'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve(m as ClientResult));
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`the load process exited with ${code}`)));
    child.send(job);
  });
}

// ---- the daemon side (this process) ----

export const name = 'api';

export const targets: Record<string, Target> = {
  idleP50Ms: atMost(10, 'ms'),
  idleP99Ms: atMost(50, 'ms'),
  acceptedPerSec: atLeast(5000, '/s'),
};

/** For `npm run bench`: the same measurement as flat metrics against the targets. */
export async function run(): Promise<Metrics> {
  const r = await measure();
  return {
    idleRequests: r.latency.requests, idleP50Ms: r.latency.p50Ms, idleP99Ms: r.latency.p99Ms, idleMaxMs: r.latency.maxMs,
    connections: r.throughput.connections, seconds: r.throughput.seconds, accepted: r.throughput.accepted, failed: r.throughput.failed,
    acceptedPerSec: r.throughput.acceptedPerSec, serverCpuUsPerRequest: r.throughput.serverCpuUsPerRequest,
  };
}

export async function measure(options: ApiBenchOptions = {}): Promise<ApiBenchResult> {
  const requests = options.requests ?? 500;
  const seconds = options.seconds ?? 10;
  const connections = options.connections ?? 64;
  const users = options.users ?? 10_000;
  const dir = mkdtempSync(join(tmpdir(), 'notify-bench-'));
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  writeRawConfig(home, { server: { listen: '127.0.0.1:0' } });
  const config = loadConfig(home);
  const store = await openStore(join(home, 'notify.db'), systemClock);
  const cleanups: (() => Promise<unknown> | unknown)[] = [() => store.close(), () => rmSync(dir, { recursive: true, force: true })];
  try {
    const batch = [];
    for (let i = 0; i < users; i++) batch.push({ id: userId(i), email: `${userId(i)}@example.com` });
    await store.users.upsertMany(batch);
    await store.templates.create('note', validateTemplate({ category: 'transactional', email: { subject: 'Note', text: '{{ data.text }}' } }, config));
    const daemon = new Daemon({ home, config, store, clock: systemClock, logger: silentLogger, renderer: new Renderer(store, config) });
    await daemon.start();
    cleanups.unshift(() => daemon.stop());
    const api = await startApiThread({ config, store, daemon, logger: silentLogger, logLevel: 'silent', home });
    cleanups.unshift(() => api.close());
    const { secret, app } = await store.apps.create({ name: 'bench', ratePerSec: 1e9 });
    const auth = 'Basic ' + Buffer.from(`${app.key}:${secret}`).toString('base64');

    const deliveredAt = new Map<number, number>();
    daemon.on('delivered', (e: { id: number }) => deliveredAt.set(e.id, now()));

    const lat = (await runClient({ phase: 'latency', url: api.url, auth, requests, users })) as Extract<ClientResult, { phase: 'latency' }>;
    await new Promise((r) => setTimeout(r, 200));
    const latencies: number[] = [];
    for (const s of lat.sent) {
      const ids = store.db.prepare('SELECT id FROM deliveries WHERE notification_id = ?').pluck().all(s.id) as number[];
      const at = ids.map((id) => deliveredAt.get(id)).find((v) => v !== undefined);
      if (at !== undefined) latencies.push(at - s.at);
    }
    latencies.sort((a, b) => a - b);

    // CPU per request is steadier than requests/s on a machine shared with noisy neighbours.
    const cpuBefore = process.cpuUsage();
    const thr = (await runClient({ phase: 'throughput', url: api.url, auth, seconds, connections, users })) as Extract<ClientResult, { phase: 'throughput' }>;
    const result: ApiBenchResult = {
      latency: {
        requests: latencies.length, p50Ms: round(percentile(latencies, 50)), p90Ms: round(percentile(latencies, 90)),
        p99Ms: round(percentile(latencies, 99)), maxMs: round(latencies.at(-1) ?? NaN),
      },
      throughput: { seconds: round(thr.elapsedMs / 1000), connections, accepted: thr.accepted, failed: thr.failed, acceptedPerSec: Math.round(thr.accepted / (thr.elapsedMs / 1000)),
        serverCpuUsPerRequest: Math.round(cpuMicros(process.cpuUsage(cpuBefore)) / Math.max(1, thr.accepted)) },
    };
    return result;
  } finally {
    for (const fn of cleanups) await fn();
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function print(r: ApiBenchResult): void {
  const rows: [string, string, string][] = [
    ['API -> provider p50', `${r.latency.p50Ms} ms`, '<= 10 ms'],
    ['API -> provider p90', `${r.latency.p90Ms} ms`, ''],
    ['API -> provider p99', `${r.latency.p99Ms} ms`, '<= 50 ms'],
    ['API -> provider max', `${r.latency.maxMs} ms`, ''],
    ['accepted requests/s', String(r.throughput.acceptedPerSec), '>= 5,000'],
    ['accepted / failed', `${r.throughput.accepted} / ${r.throughput.failed}`, ''],
    ['server CPU per request', `${r.throughput.serverCpuUsPerRequest} us`, ''],
  ];
  const w = Math.max(...rows.map((x) => x[0].length));
  const v = Math.max(...rows.map((x) => x[1].length));
  process.stdout.write(`API benchmark (${r.latency.requests} sequential requests; ${r.throughput.connections} connections for ${r.throughput.seconds} s)\n`);
  for (const [name, value, target] of rows) process.stdout.write(`  ${name.padEnd(w)}  ${value.padStart(v)}  ${target}\n`);
}

function flag(name: string): number | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--client')) {
    process.once('message', (job) => {
      client(job as ClientJob).then((result) => process.send!(result, () => process.exit(0)), (err: Error) => {
        process.stderr.write(`load process failed: ${err.message}\n`);
        process.exit(1);
      });
    });
  } else {
    measure({ requests: flag('--requests'), seconds: flag('--seconds'), connections: flag('--connections') }).then(print).catch((err: Error) => {
      process.stderr.write(`${err.stack ?? err.message}\n`);
      process.exitCode = 1;
    });
  }
}
