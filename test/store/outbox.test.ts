import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/index.js';
import { ManualClock } from '../../src/core/time.js';
import { tempDir } from '../helpers.js';

async function storeWithDeliveries(t: { after(fn: () => void): void }, rows: { provider?: string; priority: number; nextAt?: number }[]) {
  const clock = new ManualClock(1_000_000);
  const store = await openStore(join(tempDir(t), 'notify.db'), clock);
  t.after(() => void store.close());
  await store.users.upsertMany([{ id: 'u1', email: 'u1@example.com' }]);
  store.db.prepare(`INSERT INTO notifications (id, template, template_version, category, priority, audience, channels, status, source, created_at, updated_at)
    VALUES ('n1', 't', 1, 'transactional', 1, '{}', '["email"]', 'active', 'cli', 0, 0)`).run();
  const insert = store.db.prepare(`INSERT INTO deliveries (notification_id, user_id, channel, provider, address, category, priority, status, next_at, created_at, updated_at)
    VALUES ('n1', 'u1', 'email', ?, 'u1@example.com', 'transactional', ?, 'queued', ?, 0, 0)`);
  for (const r of rows) insert.run(r.provider ?? 'email', r.priority, r.nextAt ?? 0);
  return { store, clock };
}

function statuses(store: Store): string[] {
  return store.db.prepare('SELECT status FROM deliveries ORDER BY id').pluck().all() as string[];
}

test('claims take due rows of one provider by priority, then due time', async (t) => {
  const { store } = await storeWithDeliveries(t, [
    { priority: 2, nextAt: 10 }, { priority: 0, nextAt: 20 }, { priority: 1, nextAt: 5 }, { priority: 0, nextAt: 15 },
    { priority: 0, nextAt: 2_000_000 }, { provider: 'sms', priority: 0 },
  ]);
  const claimed = await store.outbox.claim('email', 'a', 3, 60_000);
  assert.deepEqual(claimed.map((c) => c.id), [4, 2, 3]);
  assert.deepEqual(claimed.map((c) => c.attempt), [1, 1, 1]);
  const rest = await store.outbox.claim('email', 'b', 10, 60_000);
  assert.deepEqual(rest.map((c) => c.id), [1], 'a leased row is never claimed twice; future rows wait');
});

test('expired leases are reclaimed and released rows return their attempt', async (t) => {
  const { store, clock } = await storeWithDeliveries(t, [{ priority: 1 }, { priority: 1 }]);
  const [a, b] = await store.outbox.claim('email', 'daemon-1', 2, 1000);
  await store.outbox.release([b!.id], 'daemon-1');
  assert.deepEqual(statuses(store), ['sending', 'queued']);
  assert.equal(store.db.prepare('SELECT attempts FROM deliveries WHERE id = ?').pluck().get(b!.id), 0);
  assert.deepEqual(await store.outbox.reclaimStale(), [], 'a live lease stays');
  clock.advance(1001);
  assert.deepEqual(await store.outbox.reclaimStale(), [a!.id]);
  assert.deepEqual(statuses(store), ['queued', 'queued']);
});

test('recorded outcomes update rows, log events and apply side effects in one batch', async (t) => {
  const { store, clock } = await storeWithDeliveries(t, [{ priority: 1 }, { priority: 1 }, { priority: 1 }]);
  store.db.prepare(`INSERT INTO devices (id, user_id, platform, token, created_at, updated_at) VALUES (7, 'u1', 'ios', ?, 0, 0)`).run('a'.repeat(64));
  const [d1, d2, d3] = await store.outbox.claim('email', 'x', 3, 60_000);
  const at = clock.now();
  await store.outbox.record([
    { type: 'sent', id: d1!.id, providerId: 'p-1', at },
    { type: 'retry', id: d2!.id, nextAt: at + 5000, error: 'retryable: 503', at },
    { type: 'dead', id: d3!.id, error: 'invalid-address: 550', at, suppress: { channel: 'email', address: 'u1@example.com', reason: 'bounced' },
      deactivateDevice: { deviceId: 7, reason: 'Unregistered' }, optOut: { userId: 'u1', channel: 'sms' } },
  ]);
  assert.deepEqual(statuses(store), ['sent', 'failed', 'dead']);
  assert.equal(store.db.prepare('SELECT provider_id FROM deliveries WHERE id = ?').pluck().get(d1!.id), 'p-1');
  assert.equal(store.db.prepare('SELECT next_at FROM deliveries WHERE id = ?').pluck().get(d2!.id), at + 5000);
  assert.deepEqual(store.db.prepare('SELECT status FROM delivery_events ORDER BY id').pluck().all(), ['sent', 'failed', 'dead']);
  assert.equal(await store.prefs.isSuppressed('email', 'u1@example.com'), true);
  assert.deepEqual(store.db.prepare('SELECT active, deactivated_reason FROM devices WHERE id = 7').get(), { active: 0, deactivated_reason: 'Unregistered' });
  assert.deepEqual(store.db.prepare("SELECT opt_in, source FROM preferences WHERE user_id = 'u1' AND channel = 'sms'").get(), { opt_in: 0, source: 'provider' });
  // A stale result for a row no longer leased changes nothing.
  await store.outbox.record([{ type: 'sent', id: d2!.id, providerId: 'late', at }]);
  assert.equal(statuses(store)[1], 'failed');
});

test('rows being sent count in every per-notification reader, though the notification index leaves them out', async (t) => {
  const { store, clock } = await storeWithDeliveries(t, [{ priority: 1 }, { priority: 1 }, { priority: 1 }, { priority: 1 }]);
  store.db.prepare(`UPDATE notifications SET is_campaign = 1`).run();
  const [d1, , d3] = await store.outbox.claim('email', 'x', 3, 60_000);
  await store.outbox.record([{ type: 'sent', id: d1!.id, providerId: 'p-1', at: clock.now() }]);
  await store.outbox.record([{ type: 'dead', id: d3!.id, error: 'permanent: 550', at: clock.now() }]);
  // Now: 1 sent, 1 dead, 1 sending (d2), 1 queued.
  assert.deepEqual(store.notifications.deliveryCounts('n1').deliveries, { email: { sent: 1, dead: 1, sending: 1, queued: 1 } });
  assert.equal(await store.notifications.pending('n1'), 2);
  assert.deepEqual((await store.notifications.progress()).map(({ total, done, sent }) => ({ total, done, sent })), [{ total: 4, done: 2, sent: 1 }]);
  const stats = await store.stats.compute({ notificationId: 'n1' });
  assert.deepEqual([stats.deliveries, stats.sending, stats.queued, stats.sent, stats.dead], [4, 1, 1, 1, 1]);
  assert.deepEqual((await store.outbox.list({ notificationId: 'n1' })).map((d) => d.status), ['queued', 'dead', 'sending', 'sent']);
  assert.equal(await store.notifications.completeFinished(), 0, 'a row being sent keeps its notification active');

  // The index the readers rely on is the partial one, and they use it.
  const plan = (sql: string) => (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('n1') as { detail: string }[]).map((r) => r.detail).join('; ');
  assert.match(plan(`SELECT status, count(*) FROM deliveries WHERE notification_id = ? AND status <> 'sending' GROUP BY status`), /deliveries_notification/);
  await store.outbox.release([(await store.outbox.list({ notificationId: 'n1', status: 'sending' }))[0]!.id], 'x');
  await store.outbox.record([]);
  const [last, again] = await store.outbox.claim('email', 'y', 2, 60_000);
  await store.outbox.record([{ type: 'sent', id: last!.id, providerId: 'p-2', at: clock.now() }, { type: 'sent', id: again!.id, providerId: 'p-3', at: clock.now() }]);
  assert.equal(await store.notifications.completeFinished(), 1);
});
