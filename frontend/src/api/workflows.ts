/** Workflow endpoints: list, create, start a run. */

import { api } from './client';
import type { Page, RunSummary, Workflow, WorkflowCreateInput } from './types';

const BASE = '/api/v1/workflows/';

export function listWorkflows(search: string, signal?: AbortSignal): Promise<Page<Workflow>> {
  const params = new URLSearchParams({ limit: '200' });
  if (search) params.set('search', search);
  return api.get<Page<Workflow>>(`${BASE}?${params}`, signal);
}

export function createWorkflow(input: WorkflowCreateInput): Promise<Workflow> {
  return api.post<Workflow>(BASE, input);
}

export function startRun(slug: string, input: Record<string, unknown>): Promise<RunSummary> {
  return api.post<RunSummary>(`${BASE}${encodeURIComponent(slug)}/runs/`, { input });
}
