import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newNotificationId } from '../../src/store/notifications.js';

test('notification ids sort by creation time and stay unique within a millisecond', () => {
  const at = Date.UTC(2026, 10, 24, 12);
  const ids = [at - 86_400_000, at - 1, at, at, at, at + 1, at + 3_600_000].map((ms) => newNotificationId(ms));
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.match(id, /^n_[0-9a-z]{9}[A-Za-z0-9_-]{8}$/);
  // Byte order, as SQLite compares TEXT: ids of different milliseconds sort by time.
  const byTime = [ids[0], ids[1], ids[2], ids[5], ids[6]];
  assert.deepEqual([...byTime].sort(), byTime);
});
