/** Tests for time and duration formatting. */

import { describe, expect, it } from 'vitest';
import { formatDuration, formatRelative, runDuration, stateLabel, totalLabel } from './format';

const NOW = Date.parse('2025-01-01T12:00:00Z');

describe('formatRelative', () => {
  it.each([
    ['2025-01-01T12:00:00Z', 'just now'],
    ['2025-01-01T12:00:05Z', 'just now'],
    ['2025-01-01T11:59:30Z', '30 s ago'],
    ['2025-01-01T11:55:00Z', '5 min ago'],
    ['2025-01-01T09:00:00Z', '3 h ago'],
    ['2024-12-30T12:00:00Z', '2 d ago'],
  ])('%s → %s', (iso, expected) => {
    expect(formatRelative(iso, NOW)).toBe(expected);
  });

  it('shows a dash for no time', () => {
    expect(formatRelative(null, NOW)).toBe('—');
  });
});

describe('formatDuration', () => {
  it.each([
    [850, '850 ms'],
    [12_340, '12.3 s'],
    [245_000, '4 m 05 s'],
    [7_380_000, '2 h 03 m'],
  ])('%d ms → %s', (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });
});

describe('runDuration', () => {
  it('measures to the finish, or to now while running', () => {
    expect(runDuration({ started_at: '2025-01-01T11:59:00Z', finished_at: '2025-01-01T11:59:02Z' }, NOW)).toBe('2.0 s');
    expect(runDuration({ started_at: '2025-01-01T11:59:00Z', finished_at: null }, NOW)).toBe('1 m 00 s');
    expect(runDuration({ started_at: null, finished_at: null }, NOW)).toBe('—');
  });
});

it('labels states for people', () => {
  expect(stateLabel('compensation_failed')).toBe('compensation failed');
});

describe('totalLabel', () => {
  it('says an exact total as is and a capped one as a lower bound', () => {
    expect(totalLabel(1234)).toBe('1,234');
    expect(totalLabel(10_001, true)).toBe('10,000+');
    expect(totalLabel(0, true)).toBe('0+');
  });
});
