/**
 * Latency of a transactional send while a marketing campaign drains through the same lane (email, log
 * provider), two ways, one after the other while the 1M campaign drains:
 * 1. every ~50 ms this process submit()s a `note` to one user on its own store connection and wakes
 *    the daemon over its socket; latency is the log line's `at` minus the delivery's created_at.
 * 2. every ~50 ms it POSTs the same to the daemon's HTTP API (keep-alive); latency is the log line's
 *    `at` minus the moment the request was sent — API request to provider call, the measure.
 */
import { Agent } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config.js';
import { submit } from '../src/submit.js';
import { systemClock } from '../src/core/time.js';
import { readStatus, wakeDaemon } from '../src/daemon/client.js';
import { logFile } from '../src/channels/log.js';
import { postNotification } from './http.js';
import { LogTail, USERS, atLeast, atMost, copyHome, fannedHome, median, openHomeStore, quantile, removeDir, round, sampleRss, startDaemon, stopDaemon, userId, type Metrics, type Target } from './common.js';

export const name = 'latency';

const SAMPLES = 250;
const EVERY_MS = 50;

export const targets: Record<string, Target> = {
  p99Ms: atMost(100, 'ms'),
  samples: atLeast(200),
  apiP99Ms: atMost(100, 'ms'),
  apiSamples: atLeast(200),
};

export async function run(): Promise<Metrics> {
  const fanned = await fannedHome();
  const home = copyHome(fanned.home, 'latency');
  const config = loadConfig(home);
  const tail = new LogTail(logFile(home, 'email'), '"category":"transactional"');
  const { child } = await startDaemon(home);
  const rss = sampleRss(child.pid!, 250);
  const store = await openHomeStore(home);
  const sent = new Map<number, number>(); // delivery id -> created_at
  const submitMs: number[] = [];
  let bulkAtStart = 0;
  let bulkAtEnd = 0;
  let sampleStart = 0;
  let sampleEnd = 0;
  const apiSent = new Map<number, number>(); // delivery id -> when its API request was sent
  let apiBulkAtStart = 0;
  let apiBulkAtEnd = 0;
  try {
    // Wait until the campaign is flowing, then one more second.
    const deadline = Date.now() + 60_000;
    while (tail.lines === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      tail.poll();
    }
    if (tail.lines === 0) throw new Error('the daemon sent nothing within 60 s');
    await new Promise((r) => setTimeout(r, 1000));
    tail.poll();
    bulkAtStart = tail.lines;
    const deliveryOf = store.db.prepare('SELECT id, created_at FROM deliveries WHERE notification_id = ?');
    sampleStart = Date.now();
    for (let i = 0; i < SAMPLES; i++) {
      const tick = performance.now();
      const user = userId(Math.floor(Math.random() * USERS));
      const { notification } = await submit({ template: 'note', users: [user], channels: ['email'], data: { text: `ping ${i}` }, source: 'bench' }, store, config, systemClock);
      submitMs.push(performance.now() - tick);
      for (const d of deliveryOf.all(notification.id) as { id: number; created_at: number }[]) sent.set(d.id, d.created_at);
      await wakeDaemon(home);
      const wait = EVERY_MS - (performance.now() - tick);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (i % 20 === 0) tail.poll();
    }
    sampleEnd = Date.now();
    tail.poll();
    bulkAtEnd = tail.lines - tail.kept.length;

    // 2. The same through the daemon's HTTP API while the campaign still drains.
    const api = (await readStatus(home, 10_000))?.api;
    if (!api) throw new Error('the daemon reports no API address');
    const { app, secret } = await store.apps.create({ name: 'latency-bench', ratePerSec: 1e6 });
    const auth = 'Basic ' + Buffer.from(`${app.key}:${secret}`).toString('base64');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const url = new URL(api);
    apiBulkAtStart = tail.lines - tail.kept.length;
    for (let i = 0; i < SAMPLES; i++) {
      const tick = performance.now();
      const at = Date.now();
      const r = await postNotification(agent, url, auth, JSON.stringify({ event_id: `latency-${process.pid}-${i}`, template: 'note', user_id: userId(Math.floor(Math.random() * USERS)), channels: ['email'], data: { text: `api ${i}` } }));
      if (r.status !== 202) throw new Error(`the API answered ${r.status}: ${r.text}`);
      const { id } = JSON.parse(r.text) as { id: string };
      for (const d of deliveryOf.all(id) as { id: number }[]) apiSent.set(d.id, at);
      const wait = EVERY_MS - (performance.now() - tick);
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      if (i % 20 === 0) tail.poll();
    }
    agent.destroy();
    tail.poll();
    apiBulkAtEnd = tail.lines - tail.kept.length;
    // Let the last ones through.
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      tail.poll();
      if (tail.kept.length >= sent.size + apiSent.size) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await store.close();
    await stopDaemon(child, 60_000);
  }
  const mem = rss.stop();
  tail.poll();
  tail.close();

  const latencies: number[] = [];
  const apiLatencies: number[] = [];
  for (const line of tail.kept) {
    const l = JSON.parse(line) as { at: string; deliveryId: number };
    const created = sent.get(l.deliveryId);
    if (created !== undefined) latencies.push(Date.parse(l.at) - created);
    const posted = apiSent.get(l.deliveryId);
    if (posted !== undefined) apiLatencies.push(Date.parse(l.at) - posted);
  }
  removeDir(join(home, '..'));
  const windowS = (sampleEnd - sampleStart) / 1000;
  return {
    samples: latencies.length,
    submitted: sent.size,
    p50Ms: round(median(latencies)),
    p90Ms: round(quantile(latencies, 0.9)),
    p99Ms: round(quantile(latencies, 0.99)),
    maxMs: round(Math.max(...latencies)),
    submitMedianMs: round(median(submitMs)),
    submitP99Ms: round(quantile(submitMs, 0.99)),
    bulkSentDuringSampling: bulkAtEnd - bulkAtStart,
    bulkPerSecDuringSampling: Math.round((bulkAtEnd - bulkAtStart) / windowS),
    peakRssMb: mem.peakMb,
    apiSamples: apiLatencies.length,
    apiP50Ms: round(median(apiLatencies)),
    apiP99Ms: round(quantile(apiLatencies, 0.99)),
    apiMaxMs: round(Math.max(...apiLatencies)),
    bulkSentDuringApiSampling: apiBulkAtEnd - apiBulkAtStart,
  };
}
