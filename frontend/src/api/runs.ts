/** Run endpoints: list, counts, detail, events and the control actions. */

import { api } from './client';
import type { Page, RetryRequest, RunCounts, RunDetail, RunEvent, RunListPage, RunSummary } from './types';

/** The board's run query; empty strings mean "any". */
export interface RunQuery {
  workflow: string;
  version: string;
  state: string; // one state or a comma-separated list
  queue: string;
  sort: string;
  limit: number;
  offset: number;
}

/** Return the query string of a run query, leaving out the "any" filters. */
export function runQueryString(query: RunQuery): string {
  const params = new URLSearchParams();
  for (const key of ['workflow', 'version', 'state', 'queue'] as const) {
    const value = query[key].trim();
    if (value) params.set(key, value);
  }
  if (query.sort && query.sort !== 'newest') params.set('sort', query.sort);
  params.set('limit', String(query.limit));
  params.set('offset', String(query.offset));
  return params.toString();
}

export function queryRuns(query: RunQuery, signal?: AbortSignal): Promise<RunListPage> {
  return api.get<RunListPage>(`/api/v1/runs/?${runQueryString(query)}`, signal);
}

export function getRunCounts(signal?: AbortSignal): Promise<RunCounts> {
  return api.get<RunCounts>('/api/v1/runs/counts/', signal);
}

export function getRunDetail(id: number, signal?: AbortSignal): Promise<RunDetail> {
  return api.get<RunDetail>(`/api/v1/runs/${id}/`, signal);
}

export function listRunEvents(id: number, after: number, signal?: AbortSignal): Promise<{ results: RunEvent[] }> {
  return api.get<{ results: RunEvent[] }>(`/api/v1/runs/${id}/events/?after=${after}`, signal);
}

export type RunControl = 'cancel' | 'pause' | 'resume';

/** Cancel, pause or resume a run; a 409 ApiError says the state machine refused. */
export function controlRun(id: number, action: RunControl, reason = ''): Promise<RunDetail> {
  // The API refuses a blank reason: send none rather than "".
  const body = reason.trim() && action !== 'resume' ? { reason: reason.trim() } : {};
  return api.post<RunDetail>(`/api/v1/runs/${id}/${action}/`, body);
}

export function retryRun(id: number, request: RetryRequest): Promise<RunDetail> {
  return api.post<RunDetail>(`/api/v1/runs/${id}/retry/`, request);
}

/** The latest runs of one workflow, newest first (the editor's run picker). */
export function listWorkflowRuns(slug: string, limit = 20, signal?: AbortSignal): Promise<Page<RunSummary>> {
  return api.get<Page<RunSummary>>(`/api/v1/workflows/${encodeURIComponent(slug)}/runs/?limit=${limit}`, signal);
}

/** The params one attempt was given, evaluated again from the run's stored data. */
export interface AttemptParams {
  number: number | null;
  value: unknown;
  /** The value's size in bytes when it was too large to answer. */
  too_large?: number;
  error?: string;
}

export interface StepParams {
  step_id: number;
  node_id: string;
  /** The params paths that are expressions. */
  expressions: string[];
  attempts: AttemptParams[];
}

export function getStepParams(runId: number, stepId: number, signal?: AbortSignal): Promise<StepParams> {
  return api.get<StepParams>(`/api/v1/runs/${runId}/steps/${stepId}/params/`, signal);
}

/**
 * "Run from here": a test run of draft `version` that starts at `node`, seeded with
 * run `runId`'s input and the data of every step it does not run again.
 */
export function startTestRun(slug: string, version: number, runId: number, node: string): Promise<RunSummary> {
  return api.post<RunSummary>(`/api/v1/workflows/${encodeURIComponent(slug)}/versions/${version}/test-runs/`, { run: runId, node });
}

/** The graph a run runs on (its version's; a test run's frozen draft). */
export interface RunGraph {
  version: number;
  status: string;
  graph: unknown;
}

export function getRunGraph(id: number, signal?: AbortSignal): Promise<RunGraph> {
  return api.get<RunGraph>(`/api/v1/runs/${id}/graph/`, signal);
}
