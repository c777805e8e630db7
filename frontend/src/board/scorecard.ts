/** Format scorecard values and keep the scorecard's choices in the URL (no React). */

import type { ComparedMetric, Difference, Verdict } from '../api/metrics';
import { formatSeconds } from '../ui/format';

export { formatSeconds };

export const NO_DATA = 'no data';

export const WINDOWS = [7, 30, 90] as const;
export type WindowDays = (typeof WINDOWS)[number];

/** Return "100 %", "87.5 %", or "no data" for a 0..1 ratio that may be null. */
export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NO_DATA;
  const percent = value * 100;
  const rounded = Math.round(percent * 10) / 10;
  return `${Number.isInteger(rounded) ? rounded.toFixed(0) : rounded.toFixed(1)} %`;
}

/** Return "1.25" or "no data" for a plain ratio such as retries per run. */
export function formatNumber(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NO_DATA;
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

const SECONDS_METRICS: ReadonlySet<ComparedMetric> = new Set(['queue_delay_p95']);

/** Return how b differs from a: "+12.5 pts" for ratios, "+120 ms" for delays, "—" without data. */
export function formatDelta(metric: ComparedMetric, difference: Difference | undefined): string {
  const delta = difference?.delta;
  if (delta === null || delta === undefined || !Number.isFinite(delta)) return '—';
  const sign = delta > 0 ? '+' : delta < 0 ? '−' : '±';
  const size = Math.abs(delta);
  if (SECONDS_METRICS.has(metric)) return `${sign}${formatSeconds(size)}`;
  const points = Math.round(size * 1000) / 10;
  return `${sign}${Number.isInteger(points) ? points.toFixed(0) : points.toFixed(1)} pts`;
}

export const VERDICT_TEXT: Record<Verdict, string> = {
  better: 'better',
  worse: 'worse',
  same: 'same',
  'no data': NO_DATA,
};

/** Return the CSS class suffix of a verdict ("no data" → "nodata"). */
export function verdictClass(verdict: Verdict | undefined): string {
  return verdict === undefined || verdict === 'no data' ? 'nodata' : verdict;
}

/** Return the ISO start of a window that ends now and spans `days` days. */
export function windowSince(days: number, now: number): string {
  return new Date(now - days * 86_400_000).toISOString();
}

export interface ScorecardChoice {
  workflow: string;
  days: WindowDays;
  a: number | null; // version A; null for all versions
  b: number | null; // version B to compare with; null for none
}

export const defaultChoice: ScorecardChoice = { workflow: '', days: 7, a: null, b: null };

function positive(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value)) return null;
  const n = Number(value);
  return n >= 1 ? n : null;
}

/** Read the scorecard's choices from a query string (?workflow=…&days=…&a=…&b=…). */
export function parseChoice(search: string): ScorecardChoice {
  const params = new URLSearchParams(search);
  const days = Number(params.get('days'));
  const a = positive(params.get('a'));
  const b = positive(params.get('b'));
  return {
    workflow: params.get('workflow') ?? '',
    days: (WINDOWS as readonly number[]).includes(days) ? (days as WindowDays) : 7,
    a,
    b: a === null ? null : b,
  };
}

/** Write the choices into `params` (other parameters, such as the tab, are kept). */
export function writeChoice(params: URLSearchParams, choice: ScorecardChoice): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const key of ['workflow', 'days', 'a', 'b']) next.delete(key);
  if (choice.workflow) next.set('workflow', choice.workflow);
  if (choice.days !== 7) next.set('days', String(choice.days));
  if (choice.workflow && choice.a !== null) next.set('a', String(choice.a));
  if (choice.workflow && choice.a !== null && choice.b !== null) next.set('b', String(choice.b));
  return next;
}

/** Which versions take new runs: the live one, and a canary if one is running. */
export interface Rollout {
  live: number | null;
  canary: number | null;
}

/**
 * Pick default versions for a workflow: while a canary runs, A the live version and B
 * the canary; otherwise A the one before the newest and B the newest, so that opening a
 * workflow compares its last change at once.
 */
export function defaultVersions(numbers: readonly number[], rollout: Rollout | null = null): { a: number | null; b: number | null } {
  if (rollout?.live != null && rollout.canary != null && numbers.includes(rollout.live) && numbers.includes(rollout.canary)) {
    return { a: rollout.live, b: rollout.canary };
  }
  const sorted = [...numbers].sort((x, y) => x - y);
  if (sorted.length === 0) return { a: null, b: null };
  if (sorted.length === 1) return { a: sorted[0]!, b: null };
  return { a: sorted[sorted.length - 2]!, b: sorted[sorted.length - 1]! };
}
