/** Run endpoints used by the board. */

import { api } from './client';
import type { RunPage, RunSummary } from './types';

export function listRuns(limit: number, signal?: AbortSignal): Promise<RunPage> {
  return api.get<RunPage>(`/api/v1/runs/?limit=${limit}`, signal);
}

/** Fetch one run; the detail body is a superset of the summary. */
export function getRun(id: number, signal?: AbortSignal): Promise<RunSummary> {
  return api.get<RunSummary>(`/api/v1/runs/${id}/`, signal);
}
