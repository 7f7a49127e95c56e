import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, type RetryPolicy } from '../../src/core/retry.js';

const policy: RetryPolicy = { maxAttempts: 5, baseMs: 1000, maxMs: 8000, maxAgeMs: 3_600_000 };
const now = 1_000_000;

test('retry decisions follow the table', () => {
  const cases: [string, Parameters<typeof decide>, ReturnType<typeof decide>][] = [
    ['first retryable failure waits half to all of the base', [1, { kind: 'retryable' }, now, now, policy, 0], { action: 'retry', at: now + 500 }],
    ['jitter spreads up to the full backoff', [1, { kind: 'retryable' }, now, now, policy, 0.999999], { action: 'retry', at: now + 1000 }],
    ['backoff doubles per attempt', [3, { kind: 'retryable' }, now, now, policy, 0], { action: 'retry', at: now + 2000 }],
    ['backoff is capped', [4, { kind: 'retryable' }, now, now, policy, 1], { action: 'retry', at: now + 8000 }],
    ['Retry-After wins over backoff', [1, { kind: 'rate-limited', retryAfterMs: 30_000 }, now, now, policy, 0], { action: 'retry', at: now + 30_000 }],
    ['rate-limited without Retry-After backs off', [2, { kind: 'rate-limited' }, now, now, policy, 0], { action: 'retry', at: now + 1000 }],
    ['the last attempt is dead', [5, { kind: 'retryable' }, now, now, policy, 0], { action: 'dead', reason: 'max-attempts' }],
    ['permanent errors are dead at once', [1, { kind: 'permanent' }, now, now, policy, 0], { action: 'dead', reason: 'permanent' }],
    ['dead addresses are deactivated, never retried', [1, { kind: 'invalid-address' }, now, now, policy, 0], { action: 'deactivate' }],
    ['a retry past max age is dead', [2, { kind: 'retryable' }, now, now - 3_599_500, policy, 0], { action: 'dead', reason: 'max-age' }],
  ];
  for (const [name, args, expected] of cases) assert.deepEqual(decide(...args), expected, name);
});
