import { describe, expect, it } from 'vitest';
import type { Scorecard } from '../api/metrics';
import { finishedShare, triggerLabel, triggerRows } from './byTrigger';

function card(byTrigger?: Scorecard['runs']['by_trigger']): Scorecard {
  return {
    runs: { finished: 0, succeeded: 0, by_trigger: byTrigger },
    success_rate: null,
    attempts: 0,
    retries: 0,
    retry_burden: null,
    retries_per_run: null,
    queue_delay: { count: 0, p50: null, p95: null, max: null },
    handoff_accuracy: { value: null, reviewed: 0, correct: 0 },
  };
}

const runs = (finished: number, succeeded: number) => ({ finished, succeeded, success_rate: finished ? succeeded / finished : null });

describe('triggerRows', () => {
  it('lists known triggers first in a fixed order, then others by name', () => {
    const rows = triggerRows(card({ zeta: runs(1, 1), webhook: runs(2, 1), api: runs(3, 3), alpha: runs(1, 0) }), null);
    expect(rows.map((r) => r.trigger)).toEqual(['api', 'webhook', 'alpha', 'zeta']);
    expect(rows[0]).toMatchObject({ label: 'API', a: { finished: 3 }, b: null });
  });
  it('joins both version cards, with null where a card has no runs of a trigger', () => {
    const rows = triggerRows(card({ api: runs(3, 2) }), card({ schedule: runs(4, 4) }));
    expect(rows).toEqual([
      { trigger: 'api', label: 'API', a: runs(3, 2), b: null },
      { trigger: 'schedule', label: 'Schedule', a: null, b: runs(4, 4) },
    ]);
  });
  it('is empty when the server sends no breakdown', () => {
    expect(triggerRows(card(undefined), null)).toEqual([]);
  });
});

describe('triggerLabel', () => {
  it('names known kinds and keeps unknown ones', () => {
    expect(triggerLabel('call')).toBe('Called by a run');
    expect(triggerLabel('manual')).toBe('manual');
  });
});

describe('finishedShare', () => {
  it('scales to the largest finished count of either card', () => {
    const rows = triggerRows(card({ api: runs(2, 2) }), card({ api: runs(8, 8) }));
    expect(finishedShare(2, rows)).toBe(25);
    expect(finishedShare(8, rows)).toBe(100);
    expect(finishedShare(0, [])).toBe(0);
  });
});
