/** Tests for the publish gate, canary texts and the release settings form. */

import { describe, expect, it } from 'vitest';
import type { GateResult } from '../api/changeSafety';
import {
  blockedProblems,
  canaryText,
  criteriaText,
  gateText,
  gateVerdict,
  parseCanaryPercent,
  publishedText,
  scorecardLink,
  settingsFormOf,
  settingsPatchOf,
} from './release';

const gate = (over: Partial<GateResult> = {}): GateResult => ({
  mode: 'warn',
  ok: true,
  problems: [],
  passed: 2,
  failed: 0,
  coverage: { edges: [], covered: 7, total: 9, percent: 77.8, uncovered: [] },
  ...over,
});

describe('the publish gate', () => {
  it('says what it asks of a draft', () => {
    expect(gateText({ publish_gate: 'off', coverage_threshold: 80 })).toBe('Publish gate off: test cases are not checked.');
    expect(gateText({ publish_gate: 'block', coverage_threshold: 80 })).toBe(
      'Publish gate blocks: the test cases must pass and cover ≥ 80 % of the edges.',
    );
    expect(gateText({ publish_gate: 'warn', coverage_threshold: 0 })).toMatch(/^Publish gate warns: the test cases must pass, or/);
  });

  it('reports its verdict', () => {
    expect(gateVerdict(null)).toBe('');
    expect(gateVerdict(gate())).toBe('Gate passed: 2 passed, 0 failed, coverage 77.8 %.');
    expect(gateVerdict(gate({ ok: false, failed: 1, passed: 1 }))).toBe('Gate (warn) found problems: 1 passed, 1 failed, coverage 77.8 %.');
  });

  it('splits a 409 message into its problems', () => {
    expect(blockedProblems('publishing is blocked: 1 of 2 test cases fail: wrong end; test coverage 55.6 % is below the threshold 80 %')).toEqual([
      '1 of 2 test cases fail: wrong end',
      'test coverage 55.6 % is below the threshold 80 %',
    ]);
  });
});

describe('canaries', () => {
  it('says what share a canary takes, since when', () => {
    const text = canaryText({ version: 2, percent: 30, started_at: '2025-01-01T12:00:00Z' }, 1, Date.parse('2025-01-01T12:05:00Z'));
    expect(text).toMatch(/^v2 is a canary: 30 % of new runs since .+ \(5 min ago\); live v1 takes the rest\.$/);
  });

  it('links to the scorecard comparing live (A) and canary (B)', () => {
    expect(scorecardLink('orders', 1, 2)).toBe('/board/?tab=scorecard&workflow=orders&a=1&b=2');
    expect(scorecardLink('orders', null, 2)).toBe('/board/?tab=scorecard&workflow=orders');
  });

  it('reads a share from 1 to 99', () => {
    expect(parseCanaryPercent(' 30 ')).toEqual({ ok: true, value: 30 });
    expect(parseCanaryPercent('0').ok).toBe(false);
    expect(parseCanaryPercent('100').ok).toBe(false);
    expect(parseCanaryPercent('12.5').ok).toBe(false);
  });

  it('says what publishing did', () => {
    expect(publishedText(3, 0)).toBe('Published v3; it is the live version now.');
    expect(publishedText(3, 25)).toBe('Published v3 as a canary: it takes 25 % of new runs.');
  });
});

describe('the settings form', () => {
  const settings = {
    publish_gate: 'block' as const,
    coverage_threshold: 80,
    rollback_criteria: { min_success_rate: 0.9, max_retry_burden: 0.3, min_runs: 20 },
  };

  it('shows ratios in percent and leaves unset fields blank', () => {
    expect(settingsFormOf(settings)).toEqual({
      gate: 'block',
      threshold: '80',
      minSuccessRate: '90',
      maxRetryBurden: '30',
      maxDelayP95: '',
      minRuns: '20',
      windowS: '',
    });
  });

  it('turns the form back into the PATCH body', () => {
    const patch = settingsPatchOf({ ...settingsFormOf(settings), maxDelayP95: '30', windowS: '3600' });
    expect(patch).toEqual({
      ok: true,
      value: {
        publish_gate: 'block',
        coverage_threshold: 80,
        rollback_criteria: { min_success_rate: 0.9, max_retry_burden: 0.3, max_queue_delay_p95_s: 30, min_runs: 20, window_s: 3600 },
      },
    });
  });

  it('names the fields out of range', () => {
    const patch = settingsPatchOf({ ...settingsFormOf(settings), threshold: '120', minSuccessRate: 'x', minRuns: '2.5' });
    expect(patch).toEqual({
      ok: false,
      errors: { threshold: 'From 0 to 100.', minSuccessRate: 'A number.', minRuns: 'A whole number.' },
    });
    expect(settingsPatchOf({ ...settingsFormOf(settings), threshold: '' }).ok).toBe(false);
  });

  it('says when Switchyard rolls back by itself', () => {
    expect(criteriaText({})).toBe('No automatic rollback: set a threshold to have one.');
    expect(criteriaText({ min_success_rate: 0.9, max_queue_delay_p95_s: 30 })).toBe(
      'Rolls back automatically when success rate < 90 % or queue delay p95 > 30 s, over at least 20 finished runs.',
    );
  });
});
