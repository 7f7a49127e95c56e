import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';
import { Checkpointer } from '../../src/store/checkpointer.js';
import { ManualClock } from '../../src/core/time.js';
import { PROVIDERS } from '../../src/core/types.js';
import { tempDir } from '../helpers.js';
import { until } from '../api/harness.js';

test('the checkpointer moves WAL pages into the database on its own thread, and hands back on close', async (t) => {
  const path = join(tempDir(t), 'notify.db');
  const store = await openStore(path, new ManualClock(1_000));
  t.after(() => void store.close());
  const fellBack: string[] = [];
  const checkpointer = new Checkpointer(store.db, path, { intervalMs: 20, onFallBack: (reason) => fellBack.push(reason) });
  t.after(() => checkpointer.close());
  await until(() => checkpointer.active, 'the worker online');
  assert.equal(store.db.pragma('wal_autocheckpoint', { simple: true }), 0, 'commits no longer checkpoint on this thread');

  const before = statSync(path).size;
  // About 4 MB of users: four times the WAL size at which SQLite would checkpoint by itself.
  const users = Array.from({ length: 8000 }, (_, i) => ({ id: `u${i}`, email: `u${i}@example.com`, attributes: { note: 'x'.repeat(400) } }));
  await store.users.upsertMany(users);
  await until(() => statSync(path).size > before + 3_000_000, 'the pages copied into the database file');

  await checkpointer.close();
  assert.equal(checkpointer.active, false);
  assert.equal(store.db.pragma('wal_autocheckpoint', { simple: true }), 1000, 'SQLite checkpoints by itself again');
  assert.deepEqual(fellBack, [], 'closing is not a failure');
});

test('a checkpoint thread that fails hands checkpoints back to the connection and says why', async (t) => {
  const path = join(tempDir(t), 'notify.db');
  const store = await openStore(path, new ManualClock(1_000));
  t.after(() => void store.close());
  const fellBack: string[] = [];
  // The worker cannot open this database: its thread fails at start.
  const checkpointer = new Checkpointer(store.db, join(tempDir(t), 'missing', 'notify.db'), { onFallBack: (reason) => fellBack.push(reason) });
  t.after(() => checkpointer.close());
  await until(() => fellBack.length > 0, 'the fall-back');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(fellBack.length, 1, 'said once');
  assert.match(fellBack[0]!, /cannot open|unable to open|exited/);
  assert.equal(checkpointer.active, false);
  assert.equal(store.db.pragma('wal_autocheckpoint', { simple: true }), 1000);
});

test('closed before it heard its thread come up, the checkpointer leaves the connection alone', async (t) => {
  const path = join(tempDir(t), 'notify.db');
  const store = await openStore(path, new ManualClock(1_000));
  t.after(() => void store.close());
  const checkpointer = new Checkpointer(store.db, path);
  // Keep this thread busy while the worker starts: its 'online' waits in the queue behind close().
  const until = Date.now() + 1500;
  while (Date.now() < until) {
    // spin
  }
  const closed = checkpointer.close();
  await closed;
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(checkpointer.active, false);
  assert.equal(store.db.pragma('wal_autocheckpoint', { simple: true }), 1000, 'a late online does not turn checkpoints off');
});

test("the checkpoint thread reads the live view's counts, the same as this thread does, until it closes", async (t) => {
  const path = join(tempDir(t), 'notify.db');
  const store = await openStore(path, new ManualClock(1_000_000));
  t.after(() => void store.close());
  await store.users.upsertMany([{ id: 'u1', email: 'u1@example.com' }]);
  store.db.prepare(`INSERT INTO notifications (id, template, template_version, category, priority, audience, channels, status, source, is_campaign, created_at, updated_at)
    VALUES ('n1', 't', 1, 'marketing', 2, '{}', '["email"]', 'active', 'cli', 1, 0, 0)`).run();
  const insert = store.db.prepare(`INSERT INTO deliveries (notification_id, user_id, channel, provider, address, category, priority, status, next_at, created_at, updated_at)
    VALUES ('n1', 'u1', 'email', 'email', 'u1@example.com', 'marketing', 2, ?, 0, 0, 0)`);
  for (const status of ['queued', 'queued', 'sent', 'failed']) insert.run(status);

  const checkpointer = new Checkpointer(store.db, path, { intervalMs: 50 });
  t.after(() => checkpointer.close());
  const off = await checkpointer.counts(1_000_000);
  assert.ok(off, 'a running thread answers');
  assert.deepEqual(off, { depths: await store.outbox.depths(PROVIDERS), campaigns: await store.notifications.progress() });
  assert.deepEqual(off.campaigns.map(({ total, done }) => ({ total, done })), [{ total: 4, done: 1 }]);
  assert.equal(off.depths.find((d) => d.provider === 'email')?.due, 3);

  await checkpointer.close();
  assert.equal(checkpointer.counts(1_000_000), undefined, 'a closed thread is not asked');
});
