import { describe, expect, it } from 'vitest';
import {
  codeState,
  countsKey,
  formatCount,
  GRID_MAX_ITEMS,
  gridLayout,
  indexAt,
  pageOffsets,
  progressText,
  stateCode,
  stateColour,
  stateCounts,
  UNKNOWN_CODE,
  UNKNOWN_COLOUR,
} from './mapGrid';

describe('stateColour', () => {
  it('gives each item state its badge colour and unknown states the not-loaded colour', () => {
    expect(stateColour('succeeded')).toBe('#16a34a');
    expect(stateColour('failed')).toBe('#dc2626');
    expect(stateColour('retry_wait')).toBe('#f59e0b');
    expect(stateColour('bogus')).toBe(UNKNOWN_COLOUR);
  });
});

describe('stateCode and codeState', () => {
  it('round-trip item states through one byte', () => {
    expect(codeState(stateCode('running'))).toBe('running');
    expect(codeState(stateCode('cancelled'))).toBe('cancelled');
  });
  it('map unknown states and missing codes to not loaded', () => {
    expect(stateCode('waiting')).toBe(UNKNOWN_CODE);
    expect(codeState(UNKNOWN_CODE)).toBeNull();
    expect(codeState(undefined)).toBeNull();
  });
});

describe('formatCount', () => {
  it('groups thousands and shortens very large counts', () => {
    expect(formatCount(7)).toBe('7');
    expect(formatCount(1234)).toBe('1,234');
    expect(formatCount(99_999)).toBe('99,999');
    expect(formatCount(123_456)).toBe('123.5k');
    expect(formatCount(2_500_000)).toBe('2.5M');
  });
});

describe('stateCounts', () => {
  it('lists present states in lifecycle order with their share', () => {
    expect(stateCounts({ failed: 1, succeeded: 2, running: 1 }, 4)).toEqual([
      { state: 'running', count: 1, share: 0.25 },
      { state: 'succeeded', count: 2, share: 0.5 },
      { state: 'failed', count: 1, share: 0.25 },
    ]);
  });
  it('leaves out zero counts and survives an empty map', () => {
    expect(stateCounts({ pending: 0 }, 0)).toEqual([]);
  });
});

describe('progressText and countsKey', () => {
  it('counts succeeded, failed and cancelled as finished', () => {
    expect(progressText({ succeeded: 3, failed: 1, cancelled: 1, running: 5 }, 10)).toBe('5 of 10 finished');
  });
  it('changes when any count changes and not with key order', () => {
    expect(countsKey({ running: 1, succeeded: 2 })).toBe(countsKey({ succeeded: 2, running: 1 }));
    expect(countsKey({ running: 1, succeeded: 2 })).not.toBe(countsKey({ running: 0, succeeded: 3 }));
  });
});

describe('gridLayout', () => {
  it('uses big squares for few items and one row when they fit', () => {
    const layout = gridLayout(3, 600);
    expect(layout).toMatchObject({ columns: 3, rows: 1, cell: 14, gap: 2 });
    expect(layout.width).toBe(3 * 16 - 2);
  });
  it('wraps many items into rows that fit the width', () => {
    const layout = gridLayout(10_000, 800);
    expect(layout.cell).toBe(4);
    expect(layout.columns).toBe(160); // (800 + 1) / 5
    expect(layout.rows).toBe(63);
    expect(layout.width).toBeLessThanOrEqual(800);
  });
  it('draws at most the grid limit', () => {
    expect(gridLayout(50_000, 800).rows).toBe(gridLayout(GRID_MAX_ITEMS, 800).rows);
  });
  it('is empty for no items', () => {
    expect(gridLayout(0, 800)).toMatchObject({ rows: 0, width: 0, height: 0 });
  });
});

describe('indexAt', () => {
  const layout = gridLayout(20, 5 * 16 - 2); // 5 columns of 14 px squares, 2 px gaps
  it('finds the item under a point', () => {
    expect(layout.columns).toBe(5);
    expect(indexAt(layout, 20, 1, 1)).toBe(0);
    expect(indexAt(layout, 20, 16 + 3, 16 + 3)).toBe(6);
  });
  it('returns null in gaps, outside, and past the last item', () => {
    expect(indexAt(layout, 20, 14.5, 1)).toBeNull();
    expect(indexAt(layout, 20, -1, 1)).toBeNull();
    expect(indexAt(layout, 7, 16 * 2 + 1, 16 + 1)).toBeNull();
  });
});

describe('pageOffsets', () => {
  it('pages up to the grid limit', () => {
    expect(pageOffsets(0)).toEqual([]);
    expect(pageOffsets(3)).toEqual([0]);
    expect(pageOffsets(1001)).toEqual([0, 500, 1000]);
    expect(pageOffsets(1_000_000)).toHaveLength(20);
  });
});
