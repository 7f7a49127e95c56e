/**
 * Fan-out of a marketing campaign to every seeded user on one channel (email) through submit() and the
 * real store. Besides the total, it times every fan-out transaction (BEGIN to COMMIT) and the gaps
 * between onProgress calls, and a separate process runs the daemon's claim statement every ~10 ms to
 * measure how long claims really wait behind the fan-out.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config.js';
import { submit } from '../src/submit.js';
import { systemClock } from '../src/core/time.js';
import type { Database } from '../src/store/db.js';
import { ROOT, USERS, atMost, copyHome, fannedHome, median, openHomeStore, quantile, round, seededHome, spawnNode, tempDir, waitExit, type Metrics, type Target } from './common.js';

export const name = 'fanout';

export const targets: Record<string, Target> = {
  seconds: atMost(10, 's'),
  maxTransactionMs: atMost(50, 'ms'),
  claimWaitMaxMs: atMost(50, 'ms'),
};

type Tx = ((...args: unknown[]) => unknown) & { deferred: Tx; immediate: Tx; exclusive: Tx };

/** Times every transaction function this connection creates, from BEGIN to COMMIT. */
function timeTransactions(db: Database, durations: number[]): void {
  const original = db.transaction.bind(db) as unknown as (fn: (...a: unknown[]) => unknown) => Tx;
  const timed = (f: (...a: unknown[]) => unknown) => function (this: unknown, ...args: unknown[]) {
    const t = performance.now();
    try {
      return f.apply(this, args);
    } finally {
      durations.push(performance.now() - t);
    }
  };
  (db as unknown as { transaction: unknown }).transaction = (fn: (...a: unknown[]) => unknown) => {
    const tx = original(fn);
    return Object.assign(timed(tx), { deferred: timed(tx.deferred), immediate: timed(tx.immediate), exclusive: timed(tx.exclusive) });
  };
}

/** Times the fan-out's "next batch" query (runs between transactions, outside them). */
function timeBatchSelects(db: Database, durations: number[]): void {
  const prepare = db.prepare.bind(db);
  (db as unknown as { prepare: unknown }).prepare = (sql: string) => {
    const stmt = prepare(sql);
    if (!sql.includes('max(id) AS upto')) return stmt;
    const get = stmt.get.bind(stmt);
    (stmt as unknown as { get: unknown }).get = (...args: unknown[]) => {
      const t = performance.now();
      try {
        return get(...args);
      } finally {
        durations.push(performance.now() - t);
      }
    };
    return stmt;
  };
}

export async function run(): Promise<Metrics> {
  const home = copyHome((await seededHome()).home, 'fanout');
  const config = loadConfig(home);
  const store = await openHomeStore(home);

  // The claim probe: a second process on the same database.
  const probeOut = join(tempDir('claim-probe'), 'waits.json');
  const probe = spawnNode([join(ROOT, 'dist', 'bench', 'claim-probe.js'), store.path, probeOut], { stdout: 'pipe' });
  await once(probe.stdout!, 'data');

  const txMs: number[] = [];
  const selectMs: number[] = [];
  timeBatchSelects(store.db, selectMs);
  const progressAt: number[] = [];
  timeTransactions(store.db, txMs);
  let notificationId: string;
  let seconds: number;
  try {
    const start = performance.now();
    progressAt.push(start);
    const { notification } = await submit({ template: 'bulk', segment: 'all', channels: ['email'], source: 'bench' }, store, config, systemClock,
      () => progressAt.push(performance.now()));
    seconds = (performance.now() - start) / 1000;
    notificationId = notification.id;
  } finally {
    probe.kill('SIGTERM');
    await waitExit(probe, 10_000);
  }
  const waits = existsSync(probeOut) ? (JSON.parse(readFileSync(probeOut, 'utf8')) as number[]) : [];

  const counts = Object.fromEntries((store.db.prepare(`SELECT status, count(*) AS c FROM deliveries GROUP BY status`).all() as { status: string; c: number }[]).map((r) => [r.status, r.c]));
  const deliveries = Object.values(counts).reduce((a, b) => a + b, 0);
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  await store.close();
  // The daemon and latency benchmarks start from this outbox.
  await fannedHome(async () => ({ home, notificationId, deliveries: counts.queued ?? 0 }));

  const gaps = progressAt.slice(1).map((t, i) => t - progressAt[i]!);
  // The fan-out's own batches are the transactions of 5000 users; the first is the notification insert.
  const batchTx = txMs.slice(1);
  return {
    users: USERS,
    seconds: round(seconds, 2),
    deliveriesPerSec: Math.round(deliveries / seconds),
    deliveries,
    queued: counts.queued ?? 0,
    skipped: counts.skipped ?? 0,
    batches: gaps.length,
    maxTransactionMs: round(Math.max(...batchTx)),
    medianTransactionMs: round(median(batchTx)),
    p99TransactionMs: round(quantile(batchTx, 0.99)),
    maxProgressGapMs: round(Math.max(...gaps)),
    maxBatchSelectMs: round(Math.max(...selectMs)),
    medianProgressGapMs: round(median(gaps)),
    claimProbes: waits.length,
    claimWaitMedianMs: round(median(waits)),
    claimWaitP99Ms: round(quantile(waits, 0.99)),
    claimWaitMaxMs: round(Math.max(...waits)),
  };
}
