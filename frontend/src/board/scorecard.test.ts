/** Tests for scorecard formatting and the choices kept in the URL. */

import { describe, expect, it } from 'vitest';
import { defaultVersions, formatDelta, formatNumber, formatPercent, formatSeconds, parseChoice, verdictClass, windowSince, writeChoice } from './scorecard';

describe('formatting', () => {
  it('shows ratios as percents and null as no data, never 0 %', () => {
    expect(formatPercent(1)).toBe('100 %');
    expect(formatPercent(0.875)).toBe('87.5 %');
    expect(formatPercent(0)).toBe('0 %');
    expect(formatPercent(2 / 3)).toBe('66.7 %');
    expect(formatPercent(null)).toBe('no data');
    expect(formatPercent(undefined)).toBe('no data');
  });

  it('shows seconds in a readable unit', () => {
    expect(formatSeconds(0.0342)).toBe('34 ms');
    expect(formatSeconds(2.345)).toBe('2.35 s');
    expect(formatSeconds(65)).toBe('1 m 05 s');
    expect(formatSeconds(null)).toBe('no data');
  });

  it('shows plain numbers', () => {
    expect(formatNumber(2)).toBe('2');
    expect(formatNumber(0.3333)).toBe('0.33');
    expect(formatNumber(null)).toBe('no data');
  });

  it('shows differences in points or seconds, with a sign', () => {
    expect(formatDelta('success_rate', { delta: -0.5, verdict: 'worse' })).toBe('−50 pts');
    expect(formatDelta('retry_burden', { delta: 0.125, verdict: 'worse' })).toBe('+12.5 pts');
    expect(formatDelta('queue_delay_p95', { delta: -0.2, verdict: 'better' })).toBe('−200 ms');
    expect(formatDelta('branch_coverage', { delta: 0, verdict: 'same' })).toBe('±0 pts');
    expect(formatDelta('success_rate', { delta: null, verdict: 'no data' })).toBe('—');
    expect(formatDelta('success_rate', undefined)).toBe('—');
  });

  it('names verdict classes', () => {
    expect(verdictClass('better')).toBe('better');
    expect(verdictClass('no data')).toBe('nodata');
    expect(verdictClass(undefined)).toBe('nodata');
  });
});

describe('choices', () => {
  it('reads choices from the URL, with defaults for nonsense', () => {
    expect(parseChoice('?tab=scorecard&workflow=orders&days=30&a=1&b=2')).toEqual({ workflow: 'orders', days: 30, a: 1, b: 2 });
    expect(parseChoice('?days=12&a=x&b=3')).toEqual({ workflow: '', days: 7, a: null, b: null });
  });

  it('writes choices and keeps other parameters', () => {
    const params = writeChoice(new URLSearchParams('tab=scorecard'), { workflow: 'orders', days: 90, a: 1, b: 2 });
    expect(params.toString()).toBe('tab=scorecard&workflow=orders&days=90&a=1&b=2');
    expect(writeChoice(params, { workflow: '', days: 7, a: 1, b: 2 }).toString()).toBe('tab=scorecard');
  });

  it('compares the last two versions by default', () => {
    expect(defaultVersions([3, 1, 2])).toEqual({ a: 2, b: 3 });
    expect(defaultVersions([4])).toEqual({ a: 4, b: null });
    expect(defaultVersions([])).toEqual({ a: null, b: null });
  });

  it('compares the live version with a running canary by default', () => {
    expect(defaultVersions([1, 2, 3], { live: 1, canary: 3 })).toEqual({ a: 1, b: 3 });
    expect(defaultVersions([1, 2, 3], { live: 2, canary: null })).toEqual({ a: 2, b: 3 });
    expect(defaultVersions([1, 2], { live: 1, canary: 9 })).toEqual({ a: 1, b: 2 });
  });

  it('starts the window the given days ago', () => {
    expect(windowSince(7, Date.parse('2025-01-08T00:00:00Z'))).toBe('2025-01-01T00:00:00.000Z');
  });
});
