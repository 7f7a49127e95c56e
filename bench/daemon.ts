/**
 * Daemon throughput on the log provider: a real `notify daemon start` process drains the fanned-out
 * campaign (one queued email delivery per seeded user). Rate comes from the log lines' `at` times over
 * the steady state (the 5th to the 95th percentile line, so start-up and the tail are excluded); RSS is
 * read from /proc every 250 ms.
 *
 * N is the whole outbox (1,000,000) when the measured rate lets it finish within DRAIN_BUDGET_S, else
 * the daemon is stopped after 300,000 lines — the metric `n` says which.
 *
 * To see where a daemon's time goes: node --cpu-prof bin/notify.js --home H daemon start, SIGTERM it,
 * and read the profile with topSelfTime() from ./common.js.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { logFile } from '../src/channels/log.js';
import { LogTail, atLeast, atMost, copyHome, fannedHome, openHomeStore, quantile, removeDir, round, sampleRss, startDaemon, stopDaemon, timeStatus, type Metrics, type Target } from './common.js';

export const name = 'daemon';

/** Longest drain allowed; beyond it N falls back to FALLBACK_N. */
const DRAIN_BUDGET_S = 100;
const FALLBACK_N = 300_000;
/** Hard stop whatever happens. */
const LIMIT_S = 180;

export const targets: Record<string, Target> = {
  steadyPerSec: atLeast(20_000, '/s'),
  peakRssMb: atMost(150, 'MB'),
};

/** Steady-state rate: lines between the 5th and 95th percentile times. */
export function steadyRate(at: number[]): { perSec: number; overallPerSec: number; spanS: number } {
  const sorted = [...at].sort((a, b) => a - b);
  const lo = Math.floor(sorted.length * 0.05);
  const hi = Math.floor(sorted.length * 0.95) - 1;
  const span = (sorted[hi]! - sorted[lo]!) / 1000;
  const total = (sorted.at(-1)! - sorted[0]!) / 1000;
  return { perSec: Math.round((hi - lo) / span), overallPerSec: Math.round(sorted.length / total), spanS: round(total, 2) };
}

export async function run(): Promise<Metrics> {
  const fanned = await fannedHome();
  const home = copyHome(fanned.home, 'daemon');
  const total = fanned.deliveries;
  const tail = new LogTail(logFile(home, 'email'));

  const t0 = performance.now();
  const { child, startedAt } = await startDaemon(home);
  const rss = sampleRss(child.pid!, 250);
  let n = total;
  let firstLineAt = 0;
  let decided = false;
  let statusMs = 0;
  let stopMs = 0;
  let exit: number | string = '';
  try {
    const deadline = Date.now() + LIMIT_S * 1000;
    while (tail.lines < n && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 250));
      tail.poll();
      if (!firstLineAt && tail.lines) firstLineAt = tail.at[0]!;
      // After ~5 s of sending, decide whether all of it fits the budget.
      if (!decided && firstLineAt && Date.now() - firstLineAt > 5000) {
        decided = true;
        const rate = tail.lines / ((Date.now() - firstLineAt) / 1000);
        if (total / rate > DRAIN_BUDGET_S) n = Math.min(total, FALLBACK_N);
        // What `notify top` / `daemon status` costs while the outbox is large (it runs in the daemon).
        statusMs = await timeStatus(home);
      }
    }
  } finally {
    const stopStart = performance.now();
    exit = await stopDaemon(child, 60_000);
    stopMs = performance.now() - stopStart;
  }
  const mem = rss.stop();
  tail.poll();
  tail.close();
  const wall = (performance.now() - t0) / 1000;

  const store = await openHomeStore(home);
  let sent: number;
  try {
    sent = store.db.prepare(`SELECT count(*) FROM deliveries WHERE status = 'sent'`).pluck().get() as number;
  } finally {
    await store.close();
  }
  const drained = tail.at.slice(0, n);
  const rate = steadyRate(drained);
  const metrics: Metrics = {
    n,
    nNote: n === total ? 'whole outbox' : `stopped after ${n.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} (full drain would exceed ${DRAIN_BUDGET_S} s)`,
    logged: tail.lines,
    steadyPerSec: rate.perSec,
    overallPerSec: rate.overallPerSec,
    drainSeconds: rate.spanS,
    startToFirstSendMs: firstLineAt ? Math.round(firstLineAt - startedAt) : -1,
    p50LineGapMs: round(quantile(drained.slice(1).map((t, i) => t - drained[i]!), 0.5), 2),
    statusMsDuringDrain: statusMs,
    peakRssMb: mem.peakMb,
    rssSamples: mem.samples,
    stopMs: Math.round(stopMs),
    exit: String(exit),
    sentInDb: sent,
    wallSeconds: round(wall),
  };
  removeDir(join(home, '..'));
  return metrics;
}
