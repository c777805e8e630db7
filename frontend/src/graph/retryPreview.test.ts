/** Tests for the retry preview: engine/retry.py's cap() and jitter ranges. */

import { describe, expect, it } from 'vitest';
import { backoffPreview, effectiveRetryPolicy, retryCap } from './retryPreview';

describe('backoffPreview', () => {
  it('uses the engine defaults: 3 attempts, 1 s doubling, full jitter', () => {
    expect(backoffPreview({})).toEqual([
      { attempt: 2, cap_s: 1, min_s: 0, max_s: 1 },
      { attempt: 3, cap_s: 2, min_s: 0, max_s: 2 },
    ]);
  });

  it('grows by the backoff factor up to max_interval_s', () => {
    const caps = backoffPreview({ max_attempts: 6, initial_interval_s: 5, backoff: 3, max_interval_s: 100 }).map((d) => d.cap_s);
    expect(caps).toEqual([5, 15, 45, 100, 100]);
  });

  it('gives each jitter its range', () => {
    const policy = { max_attempts: 2, initial_interval_s: 8 };
    expect(backoffPreview({ ...policy, jitter: 'full' })[0]).toEqual({ attempt: 2, cap_s: 8, min_s: 0, max_s: 8 });
    expect(backoffPreview({ ...policy, jitter: 'equal' })[0]).toEqual({ attempt: 2, cap_s: 8, min_s: 4, max_s: 8 });
    expect(backoffPreview({ ...policy, jitter: 'none' })[0]).toEqual({ attempt: 2, cap_s: 8, min_s: 8, max_s: 8 });
  });

  it('has no delays for a single attempt, and zero delays for a zero interval', () => {
    expect(backoffPreview({ max_attempts: 1 })).toEqual([]);
    expect(backoffPreview({ max_attempts: 3, initial_interval_s: 0 }).map((d) => d.max_s)).toEqual([0, 0]);
  });

  it('layers the node policy over the graph defaults', () => {
    const defaults = { retry: { max_attempts: 4, initial_interval_s: 2, jitter: 'none' } };
    expect(backoffPreview({ backoff: 1 }, defaults).map((d) => [d.attempt, d.min_s])).toEqual([
      [2, 2],
      [3, 2],
      [4, 2],
    ]);
    // `defaults.retry` itself works too.
    expect(backoffPreview({}, defaults.retry)).toHaveLength(3);
  });

  it('falls back past values the server would refuse', () => {
    expect(effectiveRetryPolicy({ max_attempts: 0, backoff: 0.5, jitter: 'wild', initial_interval_s: -1 })).toEqual({
      max_attempts: 3,
      initial_interval_s: 1,
      backoff: 2,
      max_interval_s: 60,
      jitter: 'full',
    });
    expect(backoffPreview({ max_attempts: 10_000 })).toHaveLength(99);
  });

  it('caps an overflowing delay at max_interval_s', () => {
    expect(retryCap({ initial_interval_s: 1, backoff: 10, max_interval_s: 60 }, 1000)).toBe(60);
    expect(retryCap({ initial_interval_s: 3, backoff: 2, max_interval_s: 60 }, 0)).toBe(3);
  });
});
