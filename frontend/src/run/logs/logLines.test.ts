import { describe, expect, it } from 'vitest';
import type { LogText } from './api';
import { appendChunks, atBottom, EMPTY_LINES, highlightParts, matchPlace, visibleRows } from './logLines';

function chunk(seq: number, firstLine: number, text: string, truncated = false): LogText {
  return {
    attempt: 7,
    map_item: null,
    number: 1,
    node_id: 'fetch',
    seq,
    first_line: firstLine,
    lines: text.split('\n').length,
    text,
    truncated,
    created_at: '2026-01-01T00:00:00Z',
  };
}

describe('appendChunks', () => {
  it('splits chunks into numbered lines and remembers the last seq', () => {
    const log = appendChunks(EMPTY_LINES, [chunk(1, 1, 'a\nb'), chunk(2, 3, 'c')]);
    expect(log.lines).toEqual(['a', 'b', 'c']);
    expect(log.numbers).toEqual([1, 2, 3]);
    expect(log.after).toBe(2);
    expect(log.marker).toBeNull();
  });

  it('skips chunks already read (a poll that overlaps the last)', () => {
    const first = appendChunks(EMPTY_LINES, [chunk(1, 1, 'a')]);
    const again = appendChunks(first, [chunk(1, 1, 'a'), chunk(2, 2, 'b')]);
    expect(again.lines).toEqual(['a', 'b']);
    expect(appendChunks(again, [chunk(2, 2, 'b')])).toBe(again);
  });

  it('keeps line numbers across a lost chunk and takes the marker', () => {
    const log = appendChunks(EMPTY_LINES, [chunk(1, 1, 'a'), chunk(3, 9, 'z'), chunk(4, 10, '… log truncated: 5 more lines (50 bytes) not kept', true)]);
    expect(log.numbers).toEqual([1, 9, 10]);
    expect(log.marker).toBe('… log truncated: 5 more lines (50 bytes) not kept');
  });
});

describe('visibleRows', () => {
  it('draws the rows in sight and a margin, within the list', () => {
    expect(visibleRows(0, 180, 18, 10_000, 5)).toEqual({ start: 0, end: 15 });
    expect(visibleRows(18 * 5000, 180, 18, 10_000, 5)).toEqual({ start: 4995, end: 5015 });
    expect(visibleRows(18 * 9995, 180, 18, 10_000, 5)).toEqual({ start: 9990, end: 10_000 });
  });
});

describe('atBottom', () => {
  it('is true within the slack of the end', () => {
    expect(atBottom(800, 1000, 200, 18)).toBe(true);
    expect(atBottom(790, 1000, 200, 18)).toBe(true);
    expect(atBottom(700, 1000, 200, 18)).toBe(false);
  });
});

describe('highlightParts', () => {
  it('marks every occurrence in any case', () => {
    expect(highlightParts('Error: an ERROR', 'error')).toEqual([
      { text: 'Error', hit: true },
      { text: ': an ', hit: false },
      { text: 'ERROR', hit: true },
    ]);
  });

  it('leaves text whose lower case changes length unmarked', () => {
    expect(highlightParts('İstanbul', 'stan')).toEqual([{ text: 'İstanbul', hit: false }]);
    expect(highlightParts('abc', '')).toEqual([{ text: 'abc', hit: false }]);
  });
});

describe('matchPlace', () => {
  it('names the step, attempt or item, and line', () => {
    expect(matchPlace({ ...chunk(1, 42, 'x') })).toBe('fetch · attempt 1 · line 42');
    expect(matchPlace({ ...chunk(1, 3, 'x'), attempt: null, map_item: 9, number: 2 })).toBe('fetch · item 9 · attempt 2 · line 3');
  });
});
