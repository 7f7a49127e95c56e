import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';
import { ManualClock } from '../../src/core/time.js';
import { tempDir } from '../helpers.js';

test('writes that arrive together share one transaction; one that throws is rolled back alone', async (t) => {
  const store = await openStore(join(tempDir(t), 'notify.db'), new ManualClock(1_000));
  t.after(() => void store.close());
  const inOuterTransaction: boolean[] = [];
  const add = (id: string) => store.group.run(async () => {
    inOuterTransaction.push(store.db.inTransaction);
    await store.users.upsertMany([{ id, email: `${id}@example.com` }]);
    return id;
  });
  const failing = store.group.run(async () => {
    await store.users.upsertMany([{ id: 'broken', email: 'broken@example.com' }]);
    throw new Error('the write failed after writing');
  });
  const results = await Promise.allSettled([add('a'), failing, add('b')]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.equal((results[0] as PromiseFulfilledResult<string>).value, 'a');
  assert.match(String((results[1] as PromiseRejectedResult).reason), /failed after writing/);
  assert.deepEqual(inOuterTransaction, [true, true], 'each write ran inside the group\'s transaction');
  assert.deepEqual(store.db.prepare('SELECT id FROM users ORDER BY id').pluck().all(), ['a', 'b']);
  assert.equal(store.db.inTransaction, false, 'committed');
});

test('a write that fails before writing costs the group nothing; one that fails after writing reruns it with savepoints', async (t) => {
  const store = await openStore(join(tempDir(t), 'notify.db'), new ManualClock(1_000));
  t.after(() => void store.close());
  const runs: string[] = [];
  const add = (id: string) => store.group.run(async () => {
    runs.push(id);
    await store.users.upsertMany([{ id, email: `${id}@example.com` }]);
    return id;
  });
  const refuse = (id: string) => store.group.run(async () => {
    runs.push(id);
    throw new Error(`${id}: refused before writing`);
  });
  const first = await Promise.allSettled([add('a'), refuse('x'), add('b')]);
  assert.deepEqual(first.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.deepEqual(runs, ['a', 'x', 'b'], 'each write ran once');

  runs.length = 0;
  const c = add('c');
  const breaks = store.group.run(async () => {
    runs.push('broken');
    await store.users.upsertMany([{ id: 'broken', email: 'broken@example.com' }]);
    throw new Error('failed after writing');
  });
  const second = await Promise.allSettled([c, breaks, add('d')]);
  assert.deepEqual(second.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.deepEqual(runs, ['c', 'broken', 'c', 'broken', 'd'], 'the group ran again from its start once the failed write had written');
  assert.deepEqual(store.db.prepare('SELECT id FROM users ORDER BY id').pluck().all(), ['a', 'b', 'c', 'd']);
});

test('a daemon write waits for an open group instead of joining it', async (t) => {
  const store = await openStore(join(tempDir(t), 'notify.db'), new ManualClock(1_000));
  t.after(() => void store.close());
  await store.users.upsertMany([{ id: 'u1', email: 'u1@example.com' }]);
  store.db.prepare(`INSERT INTO notifications (id, template, template_version, category, priority, audience, channels, status, source, created_at, updated_at)
    VALUES ('n1', 't', 1, 'transactional', 1, '{}', '["email"]', 'active', 'cli', 0, 0)`).run();
  store.db.prepare(`INSERT INTO deliveries (notification_id, user_id, channel, provider, address, category, priority, status, next_at, created_at, updated_at)
    VALUES ('n1', 'u1', 'email', 'email', 'u1@example.com', 'transactional', 1, 'queued', 0, 0, 0)`).run();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  // A group held open (its write waits on something outside) and then rolled back.
  const group = store.group.run(async () => {
    await store.users.upsertMany([{ id: 'in-group' }]);
    await gate;
    throw new Error('rolled back');
  });
  while (!store.db.inTransaction) await new Promise((resolve) => setImmediate(resolve));
  const claim = store.outbox.claim('email', 'daemon', 10, 60_000);
  await new Promise((resolve) => setTimeout(resolve, 20));
  release();
  await assert.rejects(group, /rolled back/);
  assert.equal((await claim).length, 1);
  // Had the claim run inside the group, the group's rollback would have undone it.
  assert.equal(store.db.prepare('SELECT status FROM deliveries').pluck().get(), 'sending');
  assert.deepEqual(store.db.prepare('SELECT id FROM users').pluck().all(), ['u1']);
});
