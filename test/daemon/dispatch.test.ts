import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { json, notify } from '../helpers.js';
import { BIN, configure, loggedIds, openHomeStore, seededHome, startDaemon, statusCounts, waitFor } from './harness.js';

/** The log lane's window (3 × its concurrency of 1000) plus results not yet written (at most 1000). */
const HELD_AT_MOST = 4000;

async function sendAll(home: string, users = 'all') {
  const r = await notify(home, ['send', '--template', 'note', '--segment', users, '--channel', 'email', '--data', 'text=hi', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return json(r);
}

/** Bytes the log provider has written for a lane: a cheap progress probe while a daemon drains. */
function loggedBytes(home: string, provider: string): number {
  try {
    return statSync(join(home, 'log', `${provider}.jsonl`)).size;
  } catch {
    return 0;
  }
}

test('a daemon killed with SIGKILL mid-drain loses nothing; a restart repeats at most the rows it held', async (t) => {
  // A rate limit keeps the drain long enough (about 10 s) to be cut in the middle on a fast machine.
  const home = await seededHome(t, 50_000, { 'channels.email.rateLimit': 5000 });
  await sendAll(home);
  const first = await startDaemon(t, home);
  await waitFor(() => loggedBytes(home, 'email') > 2_000_000, 'several thousand sends before the kill');
  first.child.kill('SIGKILL');
  assert.equal(await first.exited, 'SIGKILL');
  const store = await openHomeStore(t, home);
  assert.ok((statusCounts(store).sent ?? 0) < 50_000, 'the kill came mid-drain');

  const second = await startDaemon(t, home);
  await waitFor(() => statusCounts(store).sent === 50_000, 'every delivery sent after the restart');
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0);

  const ids = loggedIds(home, 'email');
  const unique = new Set(ids);
  const all = store.db.prepare('SELECT id FROM deliveries').pluck().all() as number[];
  assert.equal(all.length, 50_000);
  for (const id of all) assert.ok(unique.has(id), `delivery ${id} was never handed to the provider`);
  const repeated = ids.length - unique.size;
  assert.ok(repeated <= HELD_AT_MOST, `${repeated} deliveries were repeated; at most ${HELD_AT_MOST} were held by the killed daemon`);
});

test('two daemons on one database drain 50,000 deliveries with no duplicates', async (t) => {
  const home = await seededHome(t, 50_000);
  const other = await seededHome(t, 0);
  configure(other, { database: join(home, 'notify.db') });
  await sendAll(home);
  const a = await startDaemon(t, home);
  const b = await startDaemon(t, other);
  const store = await openHomeStore(t, home);
  await waitFor(() => statusCounts(store).sent === 50_000, 'every delivery sent');
  a.child.kill('SIGTERM');
  b.child.kill('SIGTERM');
  assert.equal(await a.exited, 0);
  assert.equal(await b.exited, 0);
  const fromA = loggedIds(home, 'email');
  const fromB = loggedIds(other, 'email');
  const all = [...fromA, ...fromB];
  assert.equal(all.length, 50_000, 'each delivery handed to the provider exactly once');
  assert.equal(new Set(all).size, 50_000);
  assert.ok(fromA.length > 0 && fromB.length > 0, `both daemons worked (${fromA.length} / ${fromB.length})`);
});

test('a provider that fails twice then succeeds delivers on the third attempt after the configured backoff', async (t) => {
  const home = await seededHome(t, 1, {
    'channels.sms.logFail': [{ attempts: 2, kind: 'retryable', code: 'TEMPORARY' }],
    'retry.baseMs': 300,
  });
  const sent = await notify(home, ['send', '--template', 'note', '--user', 'u000000', '--channel', 'sms', '--data', 'text=hi', '--json']);
  assert.equal(sent.code, 0, sent.stderr);
  const daemon = await startDaemon(t, home);
  const store = await openHomeStore(t, home);
  await waitFor(() => statusCounts(store).sent === 1, 'the delivery to be sent');
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  const row = store.db.prepare('SELECT id, attempts, created_at FROM deliveries').get() as { id: number; attempts: number; created_at: number };
  assert.equal(row.attempts, 3);
  const events = store.db.prepare('SELECT status, at, detail FROM delivery_events WHERE delivery_id = ? ORDER BY id').all(row.id) as { status: string; at: number; detail: string }[];
  assert.deepEqual(events.map((e) => e.status), ['failed', 'failed', 'sent']);
  assert.match(events[0]!.detail, /retryable: TEMPORARY/);
  // Backoff before attempt n+1 is at least half of base × 2^(n-1) (the rest is jitter).
  assert.ok(events[1]!.at - events[0]!.at >= 150, `first backoff ${events[1]!.at - events[0]!.at} ms`);
  assert.ok(events[2]!.at - events[1]!.at >= 300, `second backoff ${events[2]!.at - events[1]!.at} ms`);
  assert.equal(loggedIds(home, 'sms').length, 1);
});

test('the same event id sent at once from several processes makes one notification', async (t) => {
  const home = await seededHome(t, 10);
  const runs = await Promise.all(Array.from({ length: 5 }, () => new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, '--home', home, 'send', '--template', 'note', '--user', 'u000003', '--data', 'text=once', '--event-id', 'order-42', '--json']);
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('exit', (code) => resolve({ code, out }));
  })));
  for (const r of runs) assert.equal(r.code, 0, r.out);
  const results = runs.map((r) => JSON.parse(r.out) as { id: string; deduplicated: boolean });
  assert.equal(new Set(results.map((r) => r.id)).size, 1, 'every process reports the same notification');
  assert.equal(results.filter((r) => !r.deduplicated).length, 1, 'exactly one process created it');
  const store = await openHomeStore(t, home);
  assert.equal(store.db.prepare('SELECT count(*) FROM notifications').pluck().get(), 1);
  assert.equal(store.db.prepare('SELECT count(*) FROM deliveries').pluck().get(), 2, 'one sms and one email');
});

test('SIGTERM during a drain exits 0 with nothing left leased and every provider call recorded', async (t) => {
  const home = await seededHome(t, 20_000, { 'channels.email.rateLimit': 4000 });
  await sendAll(home);
  const daemon = await startDaemon(t, home);
  await waitFor(() => loggedBytes(home, 'email') > 500_000, 'a thousand or so sends before the signal');
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  const store = await openHomeStore(t, home);
  const counts = statusCounts(store);
  assert.equal(counts.sending, undefined, 'no delivery left leased');
  assert.equal((counts.sent ?? 0) + (counts.queued ?? 0), 20_000);
  const sentIds = new Set(store.db.prepare("SELECT id FROM deliveries WHERE status = 'sent'").pluck().all() as number[]);
  const logged = loggedIds(home, 'email');
  assert.equal(logged.length, sentIds.size, 'every send the provider saw is recorded as sent, and only those');
  for (const id of logged) assert.ok(sentIds.has(id));
});
