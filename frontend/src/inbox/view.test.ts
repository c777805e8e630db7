/** Tests for the inbox's tabs, SLA wording, ordering and grouping. */

import { describe, expect, it } from 'vitest';
import { handoffQueryString } from '../api/handoffs';
import { at, handoff, NOW } from './testHandoffs';
import {
  assigneeLabel,
  clampOffset,
  dueInfo,
  eventChangesList,
  formatSpan,
  groupHandoffs,
  handoffTitle,
  isOverdue,
  pageInfo,
  personLabel,
  readLocation,
  replaceHandoff,
  sortHandoffs,
  tabQuery,
  writeLocation,
} from './view';

describe('tabs', () => {
  it('asks for my active handoffs, all active ones, or completed ones', () => {
    expect(handoffQueryString(tabQuery('mine', 0))).toBe('status=active&mine=1&limit=20&offset=0');
    expect(handoffQueryString(tabQuery('active', 40))).toBe('status=active&limit=20&offset=40');
    expect(handoffQueryString(tabQuery('completed', 0, 5))).toBe('status=completed&limit=5&offset=0');
  });

  it('keeps the tab and page in the address bar, defaults left out', () => {
    expect(readLocation('')).toEqual({ tab: 'mine', offset: 0 });
    expect(readLocation('?tab=completed&offset=40')).toEqual({ tab: 'completed', offset: 40 });
    expect(readLocation('?tab=nonsense&offset=-3')).toEqual({ tab: 'mine', offset: 0 });
    expect(writeLocation('?tab=active&offset=20', 'mine', 0)).toBe('');
    expect(writeLocation('?x=1', 'active', 20)).toBe('?x=1&tab=active&offset=20');
  });
});

describe('formatSpan', () => {
  it('reads like people say it', () => {
    expect(formatSpan(45_000)).toBe('45 s');
    expect(formatSpan(12 * 60_000 + 10_000)).toBe('12 min');
    expect(formatSpan(3 * 3600_000)).toBe('3 h');
    expect(formatSpan(3 * 3600_000 + 5 * 60_000)).toBe('3 h 5 min');
    expect(formatSpan(2 * 86_400_000)).toBe('2 d');
    expect(formatSpan(2 * 86_400_000 + 4 * 3600_000)).toBe('2 d 4 h');
    expect(formatSpan(-90_000)).toBe('1 min');
    // Rounded down: a countdown never claims more time than is left.
    expect(formatSpan(3599_500)).toBe('59 min');
  });
});

describe('dueInfo', () => {
  it('counts down to the due time', () => {
    expect(dueInfo(handoff(1, { due_at: at(30), sla_s: 3600 }), NOW)).toEqual({ text: 'due in 30 min', tone: 'ok' });
  });

  it('turns amber when little time is left', () => {
    expect(dueInfo(handoff(1, { due_at: at(10), sla_s: 7200 }), NOW).tone).toBe('soon');
    // 20% of a 10 min SLA is 2 min.
    expect(dueInfo(handoff(1, { due_at: at(1.5), sla_s: 600 }), NOW).tone).toBe('soon');
  });

  it('says overdue when the server says so or the due time has passed since', () => {
    expect(dueInfo(handoff(1, { due_at: at(-5), overdue: true }), NOW)).toEqual({ text: 'overdue by 5 min', tone: 'overdue' });
    expect(dueInfo(handoff(1, { due_at: at(-1), overdue: false }), NOW).tone).toBe('overdue');
    expect(dueInfo(handoff(1, { state: 'escalated', due_at: at(-90), overdue: true }), NOW).text).toBe('overdue by 1 h 30 min');
  });

  it('has nothing to count without an SLA', () => {
    expect(dueInfo(handoff(1, { due_at: null, sla_s: null }), NOW)).toEqual({ text: 'no SLA', tone: 'none' });
    expect(dueInfo(handoff(1, { state: 'completed', due_at: null, completed_at: at(0) }), NOW).text).toBe('');
  });

  it('tells whether a completed handoff met its SLA', () => {
    const done = { state: 'completed' as const, due_at: at(0), overdue: false };
    expect(dueInfo(handoff(1, { ...done, completed_at: at(-3) }), NOW)).toEqual({ text: 'completed within its SLA', tone: 'in-time' });
    expect(dueInfo(handoff(1, { ...done, completed_at: at(7) }), NOW)).toEqual({ text: 'completed 7 min late', tone: 'late' });
    expect(dueInfo(handoff(1, { state: 'cancelled', completed_at: at(7) }), NOW).tone).toBe('none');
  });
});

describe('isOverdue', () => {
  it('is never true of a finished handoff', () => {
    expect(isOverdue(handoff(1, { state: 'completed', due_at: at(-5), overdue: true }), NOW)).toBe(false);
    expect(isOverdue(handoff(1, { state: 'claimed', due_at: at(-5) }), NOW)).toBe(true);
    expect(isOverdue(handoff(1, { due_at: null }), NOW)).toBe(false);
  });
});

describe('labels', () => {
  it('names assignees, people and handoffs', () => {
    expect(assigneeLabel({ kind: 'group', name: 'reviewers' })).toBe('group reviewers');
    expect(assigneeLabel(null)).toBe('—');
    expect(personLabel('alice', 'alice')).toBe('you');
    expect(personLabel('bob', 'alice')).toBe('bob');
    expect(personLabel(null, 'alice')).toBe('—');
    expect(handoffTitle(handoff(1, { title: 'Check the order' }))).toBe('Check the order');
    expect(handoffTitle(handoff(1, { title: '  ' }))).toBe('review');
  });
});

describe('sortHandoffs', () => {
  it('puts overdue first, then soonest due, then no SLA, newest first among equals', () => {
    const list = [
      handoff(1, { due_at: null, created_at: at(-10) }),
      handoff(2, { due_at: at(50) }),
      handoff(3, { due_at: at(-5), overdue: true }),
      handoff(4, { due_at: at(10) }),
      handoff(5, { due_at: null, created_at: at(-1) }),
      handoff(6, { due_at: at(-50), overdue: true }),
    ];
    expect(sortHandoffs(list, NOW).map((h) => h.id)).toEqual([6, 3, 4, 2, 5, 1]);
  });

  it('lists finished ones after active ones, last completed first', () => {
    const list = [
      handoff(1, { state: 'completed', completed_at: at(-10) }),
      handoff(2, { state: 'completed', completed_at: at(-1) }),
      handoff(3),
    ];
    expect(sortHandoffs(list, NOW).map((h) => h.id)).toEqual([3, 2, 1]);
  });
});

describe('groupHandoffs', () => {
  it('groups overdue, mine, waiting and others, in that order, leaving out empty groups', () => {
    const list = [
      handoff(1, { state: 'claimed', claimed_by: 'bob' }),
      handoff(2),
      handoff(3, { state: 'claimed', claimed_by: 'alice' }),
      handoff(4, { state: 'escalated', due_at: at(-5), overdue: true }),
      handoff(5, { state: 'claimed', claimed_by: 'alice', due_at: at(-1), overdue: true }),
    ];
    const groups = groupHandoffs(list, 'alice', NOW);
    expect(groups.map((g) => [g.id, g.items.map((h) => h.id)])).toEqual([
      ['overdue', [4, 5]],
      ['yours', [3]],
      ['waiting', [2]],
      ['others', [1]],
    ]);
    expect(groupHandoffs([], 'alice', NOW)).toEqual([]);
    expect(groupHandoffs([handoff(9, { state: 'completed' })], 'alice', NOW).map((g) => g.id)).toEqual(['done']);
  });
});

describe('list updates', () => {
  it('replaces one handoff by id', () => {
    const list = [handoff(1), handoff(2)];
    const next = replaceHandoff(list, handoff(2, { state: 'claimed', claimed_by: 'alice' }));
    expect(next.map((h) => h.state)).toEqual(['open', 'claimed']);
    expect(next[0]).toBe(list[0]);
  });

  it('refetches on handoff events and on events of runs it shows', () => {
    const base = { id: 1, run_id: 7, step_id: null, workflow: 'orders', version: 1, node_id: null, from_state: null, to_state: null, actor: null, reason: null, data: {}, created_at: at(0) };
    const runs = new Set([7]);
    expect(eventChangesList({ ...base, kind: 'handoff_opened', run_id: 99 }, runs)).toBe(true);
    expect(eventChangesList({ ...base, kind: 'run_paused' }, runs)).toBe(true);
    expect(eventChangesList({ ...base, kind: 'run_paused', run_id: 8 }, runs)).toBe(false);
    expect(eventChangesList({ ...base, kind: 'step_running' }, runs)).toBe(false);
  });
});

describe('paging', () => {
  it('describes the page and keeps the offset on a page that exists', () => {
    expect(pageInfo(20, 20, 20, 57)).toEqual({ first: 21, last: 40, hasPrevious: true, hasNext: true });
    expect(pageInfo(0, 20, 0, 0)).toEqual({ first: 0, last: 0, hasPrevious: false, hasNext: false });
    expect(clampOffset(40, 20, 40)).toBe(20);
    expect(clampOffset(40, 20, 0)).toBe(0);
    expect(clampOffset(20, 20, 57)).toBe(20);
  });
});
