import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';
import { Checkpointer } from '../../src/store/checkpointer.js';
import { ManualClock } from '../../src/core/time.js';
import { tempDir } from '../helpers.js';
import { until } from '../api/harness.js';

test('the checkpointer moves WAL pages into the database on its own thread, and hands back on close', async (t) => {
  const path = join(tempDir(t), 'notify.db');
  const store = await openStore(path, new ManualClock(1_000));
  t.after(() => void store.close());
  const checkpointer = new Checkpointer(store.db, path, 20);
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
});
