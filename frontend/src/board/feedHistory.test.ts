/** Tests for filling the feeds from history, then from the live stream. */

import { describe, expect, it } from 'vitest';
import { recentEventsQuery } from '../api/events';
import { FEED_HISTORY_KINDS, feedEvent, feedHistory, feedKind, initialFeed } from './feed';
import { event } from './testEvents';

describe('feedHistory', () => {
  it('shows events from before the page opened, newest first', () => {
    const history = [
      event(9, null, 'version_published', null),
      event(7, 2, 'attempt_failed', 'failed'),
      event(3, 1, 'step_retry_wait', 'retry_wait'),
    ];
    const state = feedHistory(initialFeed, history);
    expect(state.release.map((i) => i.id)).toEqual([9]);
    expect(state.retry.map((i) => i.id)).toEqual([7, 3]);
    expect(state.handoff).toEqual([]);
  });

  it('keeps an event once when the stream delivers one history already had', () => {
    let state = feedHistory(initialFeed, [event(7, 2, 'attempt_failed', 'failed')]);
    state = feedEvent(state, event(7, 2, 'attempt_failed', 'failed'));
    state = feedEvent(state, event(8, 2, 'step_retry_wait', 'retry_wait'));
    expect(state.retry.map((i) => i.id)).toEqual([8, 7]);
  });

  it('merges history that arrives after live events without duplicates', () => {
    let state = feedEvent(initialFeed, event(12, 4, 'handoff_opened', 'open'));
    state = feedHistory(state, [event(12, 4, 'handoff_opened', 'open'), event(10, 3, 'handoff_completed', 'completed')]);
    expect(state.handoff.map((i) => i.id)).toEqual([12, 10]);
  });

  it('asks history only for kinds a feed shows', () => {
    for (const [feed, kinds] of Object.entries(FEED_HISTORY_KINDS)) {
      for (const kind of kinds) expect(feedKind(event(1, 1, kind, null, { data: { number: 2 } }))).toBe(feed);
      expect(kinds.length).toBeLessThanOrEqual(30); // the API's bound
    }
    expect(FEED_HISTORY_KINDS.release).toContain('version_published');
    expect(FEED_HISTORY_KINDS.handoff).toContain('handoff_completed');
  });
});

describe('recentEventsQuery', () => {
  it('joins the kinds and bounds the count', () => {
    expect(recentEventsQuery(['a_b', 'c'], 50)).toBe('type=a_b%2Cc&limit=50');
    expect(recentEventsQuery([], 10)).toBe('limit=10');
  });
});
