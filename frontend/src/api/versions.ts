/** Editor endpoints: a workflow, its versions, diff, coverage, validation, actions, runs (publishing: changeSafety.ts). */

import { ApiError, apiFetch, api } from './client';
import type { EdgeCoverage } from './types';
import type { ApiErrorItem, Page, RunSummary, Workflow } from './types';

export type VersionStatus = 'draft' | 'published' | 'archived';

export interface VersionSummary {
  id: number;
  number: number;
  status: VersionStatus;
  checksum: string;
  note: string;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  published_at: string | null;
  is_live: boolean;
}

export interface VersionDetail extends VersionSummary {
  graph: unknown;
}

/** A saved version, with the warnings the server found (errors make it a 400). */
export interface SavedVersion extends VersionDetail {
  warnings: ApiErrorItem[];
}

export interface ServerValidation {
  errors: ApiErrorItem[];
  warnings: ApiErrorItem[];
}

export interface FieldChange {
  old: unknown;
  new: unknown;
}

export interface ItemsDiff {
  added: string[];
  removed: string[];
  changed: { id: string; fields: Record<string, FieldChange> }[];
}

/** `GET .../versions/{to}/diff/?against={from}`. */
export interface VersionDiff {
  from: number;
  to: number;
  nodes: ItemsDiff;
  edges: ItemsDiff;
  settings: Record<string, FieldChange>;
}

export interface Coverage {
  version: number;
  runs: number;
  edges: { id: string; taken: number }[];
  covered: number;
  total: number;
  percent: number | null; // null when the version has no edges
  uncovered: string[];
  /** The same edges taken by the workflow's test cases, and by runs or cases. */
  tests?: EdgeCoverage;
  combined?: EdgeCoverage;
}

export interface ActionDescription {
  name: string;
  description: string;
  params_schema: Record<string, unknown>;
  side_effects: boolean;
}

const workflowPath = (slug: string) => `/api/v1/workflows/${encodeURIComponent(slug)}/`;
const versionPath = (slug: string, number: number) => `${workflowPath(slug)}versions/${number}/`;

export function getWorkflow(slug: string, signal?: AbortSignal): Promise<Workflow> {
  return api.get<Workflow>(workflowPath(slug), signal);
}

export function listVersions(slug: string, signal?: AbortSignal): Promise<Page<VersionSummary>> {
  return api.get<Page<VersionSummary>>(`${workflowPath(slug)}versions/?limit=500`, signal);
}

export function getVersion(slug: string, number: number, signal?: AbortSignal): Promise<VersionDetail> {
  return api.get<VersionDetail>(versionPath(slug, number), signal);
}

/** Store a graph as a new draft (the next number). */
export function createVersion(slug: string, graph: unknown, note = ''): Promise<SavedVersion> {
  return api.post<SavedVersion>(`${workflowPath(slug)}versions/`, { graph, note });
}

/** Replace a draft's graph; a published version answers 409. */
export function updateDraft(slug: string, number: number, graph: unknown, note?: string): Promise<SavedVersion> {
  return apiFetch<SavedVersion>(versionPath(slug, number), {
    method: 'PUT',
    body: note === undefined ? { graph } : { graph, note },
  });
}

/** Make an older published version live again. */
export function rollbackTo(slug: string, number: number): Promise<Workflow> {
  return api.post<Workflow>(`${workflowPath(slug)}rollback/`, { version: number });
}

export function diffVersions(slug: string, to: number, against: number, signal?: AbortSignal): Promise<VersionDiff> {
  return api.get<VersionDiff>(`${versionPath(slug, to)}diff/?against=${against}`, signal);
}

export function getCoverage(slug: string, number: number, signal?: AbortSignal): Promise<Coverage> {
  return api.get<Coverage>(`${versionPath(slug, number)}coverage/`, signal);
}

/** The warning code added when the test cases could not all be simulated. */
export const CASES_NOT_CHECKED = 'cases_not_checked';

/**
 * Validate a graph on the server, and (with `cases`, the default: the editor relies on
 * it) lint the choice branches the workflow's test cases leave untested. That simulates
 * every case within the server's per-request budget; when the cases exceed it (422
 * `budget_exceeded`), validate the graph alone and say so in a warning, so the graph's
 * own errors still show.
 */
export async function validateOnServer(
  slug: string,
  graph: unknown,
  signal?: AbortSignal,
  { cases = true }: { cases?: boolean } = {},
): Promise<ServerValidation> {
  const path = `${workflowPath(slug)}validate/`;
  try {
    return await api.post<ServerValidation>(path, { graph, cases }, signal);
  } catch (error) {
    const budget = cases && error instanceof ApiError && error.status === 422
      ? error.errors.find((e) => e.code === 'budget_exceeded')
      : undefined;
    if (budget === undefined) throw error;
    const result = await api.post<ServerValidation>(path, { graph, cases: false }, signal);
    const warning: ApiErrorItem = {
      code: CASES_NOT_CHECKED,
      message: `Choice branches were not checked against the test cases: ${budget.message}`,
    };
    return { ...result, warnings: [...result.warnings, warning] };
  }
}

export function listActions(signal?: AbortSignal): Promise<{ results: ActionDescription[] }> {
  return api.get<{ results: ActionDescription[] }>('/api/v1/actions/', signal);
}

/** Start a run; without `version` the live version runs. */
export function startVersionRun(
  slug: string,
  input: Record<string, unknown>,
  version?: number,
): Promise<RunSummary> {
  return api.post<RunSummary>(
    `${workflowPath(slug)}runs/`,
    version === undefined ? { input } : { input, version },
  );
}
