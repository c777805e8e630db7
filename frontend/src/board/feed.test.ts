/** Tests for the retry and handoff feeds. */

import { describe, expect, it } from 'vitest';
import { feedEvent, feedItem, feedKind, initialFeed, MAX_FEED_ITEMS } from './feed';
import { event } from './testEvents';

describe('feedKind', () => {
  it('puts retry events in the retry feed', () => {
    expect(feedKind(event(1, 1, 'step_retry_wait', 'retry_wait'))).toBe('retry');
    expect(feedKind(event(1, 1, 'retry_deferred', 'scheduled'))).toBe('retry');
    expect(feedKind(event(1, 1, 'attempt_failed', 'failed'))).toBe('retry');
  });

  it('counts a scheduled attempt as a retry only after the first', () => {
    expect(feedKind(event(1, 1, 'attempt_scheduled', 'scheduled', { data: { number: 2 } }))).toBe('retry');
    expect(feedKind(event(1, 1, 'attempt_scheduled', 'scheduled', { data: { number: 1 } }))).toBeNull();
    expect(feedKind(event(1, 1, 'attempt_scheduled', 'scheduled', { data: {} }))).toBeNull();
  });

  it('puts handoff events in the handoff feed and leaves the rest out', () => {
    expect(feedKind(event(1, 1, 'handoff_claimed', 'claimed'))).toBe('handoff');
    expect(feedKind(event(1, 1, 'run_running', 'running'))).toBeNull();
    expect(feedKind(event(1, 1, 'attempt_queued', 'queued'))).toBeNull();
  });
});

describe('feedItem', () => {
  it('describes a failed attempt with its error message', () => {
    const item = feedItem(event(5, 3, 'attempt_failed', 'failed', { node_id: 'charge', reason: 'HTTP 503', data: { number: 2 } }));
    expect(item).toMatchObject({ title: 'Attempt 2 failed', detail: 'HTTP 503', runId: 3, nodeId: 'charge', tone: 'failed' });
  });

  it('names the attempt of a retry wait and a deferral', () => {
    expect(feedItem(event(5, 3, 'step_retry_wait', 'retry_wait', { data: { next_attempt: 3 } })).title).toBe('Retry 3 waiting');
    expect(feedItem(event(5, 3, 'retry_deferred', 'scheduled', { data: { number: 2 } })).title).toBe('Retry 2 deferred');
    expect(feedItem(event(5, 3, 'handoff_completed', 'completed')).title).toBe('Handoff completed');
  });
});

describe('feedEvent', () => {
  it('keeps the newest first, once each, up to the cap', () => {
    let state = initialFeed;
    for (let id = 1; id <= MAX_FEED_ITEMS + 5; id += 1) state = feedEvent(state, event(id, 1, 'attempt_failed', 'failed'));
    expect(state.retry).toHaveLength(MAX_FEED_ITEMS);
    expect(state.retry[0]?.id).toBe(MAX_FEED_ITEMS + 5);
    expect(feedEvent(state, event(MAX_FEED_ITEMS + 5, 1, 'attempt_failed', 'failed'))).toBe(state);
    expect(feedEvent(state, event(999, 1, 'run_running', 'running'))).toBe(state);
  });
});
