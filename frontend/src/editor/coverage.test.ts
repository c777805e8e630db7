/** Tests for the coverage overlay's sources. */

import { describe, expect, it } from 'vitest';
import type { Coverage } from '../api/versions';
import { coverageFor, coverageLegend, percentText, takenMap } from './coverage';

const coverage: Coverage = {
  version: 2,
  runs: 3,
  edges: [
    { id: 'a', taken: 3 },
    { id: 'b', taken: 0 },
  ],
  covered: 1,
  total: 2,
  percent: 50,
  uncovered: ['b'],
  tests: { edges: [{ id: 'a', taken: 0 }, { id: 'b', taken: 2 }], covered: 1, total: 2, percent: 50, uncovered: ['a'] },
  combined: { edges: [{ id: 'a', taken: 3 }, { id: 'b', taken: 2 }], covered: 2, total: 2, percent: 100, uncovered: [] },
};

describe('coverage sources', () => {
  it('picks runs, test cases or both', () => {
    expect(coverageFor(coverage, 'runs')).toBe(coverage);
    expect(takenMap(coverageFor(coverage, 'tests'))).toEqual(new Map([['a', 0], ['b', 2]]));
    expect(percentText(coverageFor(coverage, 'both'))).toBe('100 %');
    expect(coverageFor({ ...coverage, tests: undefined }, 'tests')).toBeNull();
    expect(takenMap(null)).toBeNull();
  });

  it('says what the overlay shows', () => {
    expect(coverageLegend(coverage, 'runs')).toBe('v2: 1 of 2 edges taken by 3 runs');
    expect(coverageLegend(coverage, 'tests')).toBe('v2: 1 of 2 edges taken by test cases');
    expect(coverageLegend(coverage, 'both')).toBe('v2: 2 of 2 edges taken by 3 runs or test cases');
    expect(percentText({ ...coverage, percent: null })).toBe('—');
  });
});
