/**
 * The retry decision: one pure function, tested with a table. Capped exponential backoff with full
 * jitter; a provider's Retry-After wins; dead addresses are never retried.
 */
import type { DeliveryErrorKind } from '../channels/types.js';

export interface RetryPolicy {
  /** Attempts before giving up. */
  maxAttempts: number;
  /** Backoff before the second attempt (before jitter). */
  baseMs: number;
  /** Largest backoff. */
  maxMs: number;
  /** A delivery created longer ago than this is not retried. */
  maxAgeMs: number;
}

export interface FailureInfo {
  kind: DeliveryErrorKind;
  retryAfterMs?: number;
}

export type RetryDecision =
  | { action: 'retry'; at: number }
  | { action: 'dead'; reason: 'permanent' | 'max-attempts' | 'max-age' }
  | { action: 'deactivate' };

/**
 * @param attempt the attempt that just failed, 1-based
 * @param createdAt when the delivery was created (epoch ms)
 * @param random a number in [0, 1) — injected so tests are exact
 */
export function decide(attempt: number, error: FailureInfo, now: number, createdAt: number, policy: RetryPolicy, random: number): RetryDecision {
  if (error.kind === 'invalid-address') return { action: 'deactivate' };
  if (error.kind === 'permanent') return { action: 'dead', reason: 'permanent' };
  if (attempt >= policy.maxAttempts) return { action: 'dead', reason: 'max-attempts' };
  let delay: number;
  if (error.kind === 'rate-limited' && error.retryAfterMs !== undefined) {
    delay = error.retryAfterMs;
  } else {
    const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
    // Half fixed, half jitter: never sooner than half the backoff, spread to avoid thundering herds.
    delay = Math.round(ceiling / 2 + (ceiling / 2) * random);
  }
  const at = now + delay;
  if (at - createdAt > policy.maxAgeMs) return { action: 'dead', reason: 'max-age' };
  return { action: 'retry', at };
}
