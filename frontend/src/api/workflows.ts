/** Workflow endpoints: list, create, start a run, the run settings (input schema, sample inputs). */

import { api, apiFetch } from './client';
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

/** A saved sample input: a name and a run input. */
export interface SampleInput {
  name: string;
  input: Record<string, unknown>;
}

/** The run settings of `GET/PATCH .../settings/` this client reads and writes. */
export interface RunSettings {
  /** A JSON Schema for run input ({}: any object). */
  input_schema: Record<string, unknown>;
  sample_inputs: SampleInput[];
}

export function getRunSettings(slug: string, signal?: AbortSignal): Promise<RunSettings> {
  return api.get<RunSettings>(`${BASE}${encodeURIComponent(slug)}/settings/`, signal);
}

export function patchRunSettings(slug: string, patch: Partial<RunSettings>): Promise<RunSettings> {
  return apiFetch<RunSettings>(`${BASE}${encodeURIComponent(slug)}/settings/`, { method: 'PATCH', body: patch });
}
