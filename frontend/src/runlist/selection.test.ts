import { describe, expect, it } from 'vitest';
import { actionLabel, progressParts } from './bulkApi';
import { isSelected, matchingRefusal, NOTHING, pageState, runsLabel, selectedCount, selectionBody, toggle, togglePage } from './selection';

describe('bulk selection', () => {
  it('picks runs by hand across pages', () => {
    let selection = toggle(NOTHING, 3);
    selection = togglePage(selection, [10, 11]);
    expect(selectedCount(selection)).toBe(3);
    expect(pageState(selection, [10, 11])).toBe('all');
    expect(pageState(selection, [3, 4])).toBe('some');
    expect(pageState(selection, [5])).toBe('none');
    selection = togglePage(selection, [10, 11]);
    expect(selectedCount(selection)).toBe(1);
    expect(selectionBody(toggle(selection, 1), { state: 'x' })).toEqual({ ids: [1, 3] });
  });

  it('selects every matching run as the filter', () => {
    const selection = { mode: 'matching', count: 1234 } as const;
    expect(isSelected(selection, 99)).toBe(true);
    expect(selectedCount(selection)).toBe(1234);
    expect(selectionBody(selection, { state: 'running' })).toEqual({ filter: { state: 'running' } });
    // Unticking one run goes back to picking by hand.
    expect(toggle(selection, 5)).toEqual({ mode: 'ids', ids: new Set([5]) });
  });

  it('refuses every matching run without a filter or over the limit', () => {
    expect(matchingRefusal(10, false)).toMatch(/needs a filter/);
    expect(matchingRefusal(10_001, true)).toMatch(/at most 10,000/);
    expect(matchingRefusal(10_000, true)).toBeNull();
  });

  it('labels counts, actions and progress', () => {
    expect(runsLabel(1)).toBe('1 run');
    expect(runsLabel(1234)).toBe('1,234 runs');
    expect(actionLabel('cancel')).toBe('Cancel');
    expect(actionLabel('retry', 'original')).toBe('Retry');
    expect(actionLabel('rerun', 'live')).toBe('Re-run on the live version');
    expect(actionLabel('rerun', '3')).toBe('Re-run on version 3');
    expect(progressParts({ total: 200, done: 100, skipped: 50, failed: 2 })).toEqual({ done: 50, skipped: 25, failed: 1 });
    expect(progressParts({ total: 0, done: 0, skipped: 0, failed: 0 })).toEqual({ done: 0, skipped: 0, failed: 0 });
  });
});
