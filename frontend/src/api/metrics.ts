/** The scorecard endpoint: GET /api/v1/metrics/. Ratios are 0..1, or null for "no data". */

import { api } from './client';

/** p50 / p95 / max of a duration in seconds; null when there is no data. */
export interface Spread {
  p50: number | null;
  p95: number | null;
  max: number | null;
}

export interface QueueDelay {
  count: number;
  p50: number | null;
  p95: number | null;
  max: number | null;
}

export interface BranchCoverage {
  covered: number;
  total: number;
  value: number | null;
  uncovered: string[];
}

/** Finished runs of one kind of trigger (api, schedule, webhook, call). */
export interface TriggerRuns {
  finished: number;
  succeeded: number;
  success_rate: number | null;
}

export interface Scorecard {
  /** by_trigger: {"api": {...}, "schedule": {...}, ...}, only kinds that finished runs. */
  runs: { finished: number; succeeded: number; by_trigger?: Record<string, TriggerRuns> };
  success_rate: number | null;
  attempts: number;
  retries: number;
  retry_burden: number | null;
  retries_per_run: number | null;
  queue_delay: QueueDelay;
  handoff_accuracy: {
    value: number | null;
    reviewed: number;
    correct: number;
    /** Handoffs completed in the window, and how long they waited to be claimed and worked (s). */
    completed?: number;
    wait_to_claim?: Spread;
    claim_to_complete?: Spread;
    open_now?: number;
  };
  branch_coverage?: BranchCoverage;
}

export interface TrendPoint {
  day: string; // YYYY-MM-DD
  finished: number;
  success_rate: number | null;
  attempts: number;
  retry_burden: number | null;
  queue_delay_p95: number | null;
}

export type Verdict = 'better' | 'worse' | 'same' | 'no data';

export type ComparedMetric = 'success_rate' | 'retry_burden' | 'queue_delay_p95' | 'handoff_accuracy' | 'branch_coverage';

export interface Difference {
  delta: number | null;
  verdict: Verdict;
}

export interface Comparison {
  a: Scorecard & { version: number };
  b: Scorecard & { version: number };
  differences: Partial<Record<ComparedMetric, Difference>>;
}

export interface MetricsResponse {
  window: { since: string; until: string };
  workflow: string | null;
  version: number | null;
  scorecard: Scorecard;
  trend: TrendPoint[];
  comparison?: Comparison;
}

export interface MetricsQuery {
  workflow?: string;
  version?: number;
  compare?: number;
  since?: string;
  until?: string;
}

export function metricsQueryString(query: MetricsQuery): string {
  const params = new URLSearchParams();
  if (query.workflow) params.set('workflow', query.workflow);
  if (query.version !== undefined) params.set('version', String(query.version));
  if (query.compare !== undefined) params.set('compare', String(query.compare));
  if (query.since) params.set('since', query.since);
  if (query.until) params.set('until', query.until);
  return params.toString();
}

export function getMetrics(query: MetricsQuery, signal?: AbortSignal): Promise<MetricsResponse> {
  return api.get<MetricsResponse>(`/api/v1/metrics/?${metricsQueryString(query)}`, signal);
}
