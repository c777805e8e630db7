/** Tests for the retry and handoff feeds. */

import { describe, expect, it } from 'vitest';
import { actorName, feedEvent, feedItem, feedKind, initialFeed, MAX_FEED_ITEMS, releaseText } from './feed';
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
    expect(feedItem(event(5, 3, 'handoff_completed', 'completed', { data: { outcome: 'approve' } })).title).toBe('Handoff completed: approve');
  });
});

describe('handoff events', () => {
  const handoffEvent = (kind: string, extra: Parameters<typeof event>[4] = {}) =>
    feedItem(event(7, 3, kind, null, { node_id: 'review', actor: 'user:alice', ...extra }));

  it('says whom an opened handoff is for, its outcomes and due time', () => {
    const item = handoffEvent('handoff_opened', {
      actor: 'system',
      reason: 'for group reviewers',
      data: { to: { kind: 'group', name: 'reviewers' }, outcomes: ['approve', 'reject'], due_at: null },
    });
    expect(item).toMatchObject({ title: 'Handoff opened for group reviewers', detail: 'approve / reject', tone: 'waiting', nodeId: 'review' });
    const due = handoffEvent('handoff_opened', { data: { to: { kind: 'user', name: 'bob' }, outcomes: ['ok'], due_at: '2025-01-01T12:00:00Z' } });
    expect(due.detail).toMatch(/^ok · due /);
  });

  it('names who claimed, released and completed it, with the outcome and note', () => {
    expect(handoffEvent('handoff_claimed', { data: { by: 'alice' } }).title).toBe('Handoff claimed by alice');
    expect(handoffEvent('handoff_released', { reason: 'not mine' })).toMatchObject({ title: 'Handoff released by alice', detail: 'not mine', tone: 'waiting' });
    expect(handoffEvent('handoff_completed', { reason: 'looks fine', data: { outcome: 'approve', by: 'alice' } })).toMatchObject({
      title: 'Handoff completed: approve',
      detail: 'by alice — looks fine',
    });
    expect(handoffEvent('handoff_completed', { actor: 'agent:triage', data: { outcome: 'reject' } }).detail).toBe('by agent triage');
  });

  it('says where a reassigned or escalated handoff went and came from', () => {
    const moved = { from: { kind: 'group', name: 'reviewers' }, to: { kind: 'user', name: 'bob' } };
    expect(handoffEvent('handoff_reassigned', { reason: 'to user bob', data: moved })).toMatchObject({
      title: 'Handoff reassigned to user bob',
      detail: 'from group reviewers — by alice',
    });
    expect(handoffEvent('handoff_reassigned', { reason: 'bob knows this customer', data: moved }).detail).toBe(
      'from group reviewers — by alice — bob knows this customer',
    );
    const escalated = handoffEvent('handoff_escalated', {
      actor: 'system:sla',
      data: { from: { kind: 'group', name: 'reviewers' }, to: { kind: 'group', name: 'escalations' } },
    });
    expect(escalated).toMatchObject({ title: 'Handoff escalated to group escalations', detail: 'from group reviewers', tone: 'deferred' });
  });

  it('flags an expired handoff, and reports cancellation and review', () => {
    expect(handoffEvent('handoff_expired', { actor: 'system:sla', reason: 'SLA of 60 s passed', data: { late_s: 125 } })).toMatchObject({
      title: 'Handoff overdue',
      detail: 'SLA of 60 s passed — 2 min late',
      tone: 'failed',
    });
    expect(handoffEvent('handoff_cancelled', { reason: 'run cancelled' })).toMatchObject({ title: 'Handoff cancelled', detail: 'run cancelled' });
    expect(handoffEvent('handoff_reviewed', { data: { verdict: 'incorrect' }, reason: 'wrong call' })).toMatchObject({
      title: 'Handoff reviewed: incorrect',
      detail: 'by alice — wrong call',
      tone: 'failed',
    });
    expect(handoffEvent('handoff_something_new').title).toBe('Handoff something new');
  });

  it('reads actors for people', () => {
    expect(actorName('user:alice')).toBe('alice');
    expect(actorName('agent:triage')).toBe('agent triage');
    expect(actorName('system:sla')).toBe('the SLA timer');
    expect(actorName('system')).toBe('system');
    expect(actorName(null)).toBe('');
  });
});

describe('release events', () => {
  const release = (kind: string, extra: Parameters<typeof event>[4] = {}) => event(9, null, kind, null, { actor: 'user:alice', version: 2, ...extra });

  it('go to the release feed', () => {
    for (const kind of ['version_published', 'live_version_changed', 'canary_started', 'canary_promoted', 'canary_aborted', 'auto_rollback']) {
      expect(feedKind(release(kind))).toBe('release');
    }
  });

  it('say what was published, live or as a canary, and what the gate found', () => {
    expect(releaseText(release('version_published', { data: { number: 2, canary_percent: 0, gate: null } }))).toMatchObject({
      title: 'v2 published and live',
      detail: 'by alice',
      tone: 'info',
    });
    const warned = releaseText(
      release('version_published', { data: { number: 2, canary_percent: 30, gate: { mode: 'warn', ok: false, problems: ['1 of 2 test cases fail: x'] } } }),
    );
    expect(warned).toMatchObject({ title: 'v2 published as a canary (30 %)', detail: 'by alice — gate (warn): 1 of 2 test cases fail: x', tone: 'deferred' });
  });

  it('follow a canary from start to promotion or abort', () => {
    expect(releaseText(release('canary_started', { data: { version: 2, percent: 30 } })).title).toBe('Canary v2 started at 30 %');
    expect(releaseText(release('canary_promoted', { data: { from: 1, to: 2 } }))).toMatchObject({ title: 'Canary v2 promoted to live', detail: 'by alice — replaces v1' });
    expect(releaseText(release('canary_aborted', { reason: 'aborted', data: { version: 2 } }))).toMatchObject({
      title: 'Canary v2 aborted',
      detail: 'by alice',
      tone: 'deferred',
    });
    expect(releaseText(release('live_version_changed', { reason: 'rollback', data: { from: 2, to: 1 } })).title).toBe('Live version v2 → v1');
  });

  it('make automatic rollbacks stand out, with the broken criteria', () => {
    const aborted = feedItem(
      release('canary_aborted', {
        actor: 'system:rollback',
        reason: 'automatic rollback: success rate 40% < 90%',
        data: { version: 2, automatic: true },
      }),
    );
    expect(aborted).toMatchObject({
      title: 'Automatic rollback: canary v2 aborted',
      detail: 'success rate 40% < 90%',
      tone: 'failed',
      automatic: true,
    });
    const live = feedItem(
      release('auto_rollback', {
        actor: 'system:rollback',
        version: 1,
        reason: 'v2 rolled back to v1: retry burden 50% > 30%',
        data: { from: 2, to: 1, automatic: true },
      }),
    );
    expect(live).toMatchObject({ title: 'Automatic rollback: v2 → v1', detail: 'retry burden 50% > 30%', automatic: true, runId: null });
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
    expect(feedEvent(state, event(1000, null, 'auto_rollback', null)).release).toHaveLength(1);
  });
});
