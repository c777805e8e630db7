/** Change-safety endpoints: test cases, test runs, release settings, canary promote/abort. */

import { api, apiFetch } from './client';
import type { EdgeCoverage } from './types';
import type { VersionDetail } from './versions';

export type { EdgeCoverage };

/** What a mocked task returns: an output, or a named error (retried as its policy says). */
export type TaskMock = { output: unknown } | { error: string; message?: string; retryable?: boolean };

/** What a case expects: the end node reached, the run's final state, the exact path. */
export interface TestExpect {
  end?: string;
  state?: string;
  path?: string[];
}

/** A test case as it is sent (`POST/PUT .../tests/`, or unsaved in `{"cases": [...]}`). */
export interface TestCaseInput {
  name: string;
  description: string;
  input: Record<string, unknown>;
  mocks: Record<string, TaskMock>; // {task node id: mock}
  outcomes: Record<string, string>; // {handoff node id: outcome}
  expect: TestExpect;
}

export interface TestCase extends TestCaseInput {
  id: number;
  created_at: string;
  updated_at: string;
}

/** One step of a simulated run (designer/testing.py `SimStep`). */
export interface SimStep {
  node_id: string;
  seq: number;
  type: string;
  state: string;
  output: unknown;
  error: { type?: string; message?: string } | null;
  attempts: number;
  taken_edges: string[];
  compensates: string | null;
}

export interface SimRun {
  state: string;
  end: string | null;
  path: string[]; // node ids that ran, in order
  edges: string[]; // edge ids taken
  steps: SimStep[];
  error: { type?: string; message?: string } | null;
  unmocked: string[];
  problems: string[];
}

export interface TestResult {
  id: number | null; // null for an unsaved case
  name: string;
  passed: boolean;
  failures: string[];
  run: SimRun;
}

/** `POST .../versions/{n}/test/`. */
export interface TestReport {
  version: number;
  passed: number;
  failed: number;
  results: TestResult[];
  coverage: EdgeCoverage;
}

export type PublishGateMode = 'off' | 'warn' | 'block';

export interface RollbackCriteria {
  min_success_rate?: number; // 0..1
  max_retry_burden?: number; // 0..1
  max_queue_delay_p95_s?: number;
  min_runs?: number;
  window_s?: number;
}

export interface CanaryState {
  version: number;
  percent: number;
  started_at: string;
}

/** `GET/PATCH .../settings/`. */
export interface ReleaseSettings {
  publish_gate: PublishGateMode;
  coverage_threshold: number;
  rollback_criteria: RollbackCriteria;
  live_version: number | null;
  previous_live_version: number | null;
  live_since: string | null;
  canary: CanaryState | null;
}

export type ReleaseSettingsPatch = Partial<Pick<ReleaseSettings, 'publish_gate' | 'coverage_threshold' | 'rollback_criteria'>>;

/** What the publish gate found (null when the gate is off). */
export interface GateResult {
  mode: PublishGateMode;
  ok: boolean;
  problems: string[];
  passed: number;
  failed: number;
  coverage: EdgeCoverage;
}

export interface PublishedVersion extends VersionDetail {
  gate: GateResult | null;
}

const workflowPath = (slug: string) => `/api/v1/workflows/${encodeURIComponent(slug)}/`;

export function listTestCases(slug: string, signal?: AbortSignal): Promise<{ results: TestCase[] }> {
  return api.get<{ results: TestCase[] }>(`${workflowPath(slug)}tests/`, signal);
}

export function createTestCase(slug: string, body: TestCaseInput): Promise<TestCase> {
  return api.post<TestCase>(`${workflowPath(slug)}tests/`, body);
}

export function updateTestCase(slug: string, id: number, body: TestCaseInput): Promise<TestCase> {
  return apiFetch<TestCase>(`${workflowPath(slug)}tests/${id}/`, { method: 'PUT', body });
}

export function deleteTestCase(slug: string, id: number): Promise<void> {
  return apiFetch<void>(`${workflowPath(slug)}tests/${id}/`, { method: 'DELETE' });
}

/** Run saved cases (all, or `ids`), or unsaved `cases`, against a version; nothing runs for real. */
export function runTests(
  slug: string,
  version: number,
  which: { ids?: number[]; cases?: TestCaseInput[] } = {},
  signal?: AbortSignal,
): Promise<TestReport> {
  return api.post<TestReport>(`${workflowPath(slug)}versions/${version}/test/`, which, signal);
}

export function getReleaseSettings(slug: string, signal?: AbortSignal): Promise<ReleaseSettings> {
  return api.get<ReleaseSettings>(`${workflowPath(slug)}settings/`, signal);
}

export function patchReleaseSettings(slug: string, patch: ReleaseSettingsPatch): Promise<ReleaseSettings> {
  return apiFetch<ReleaseSettings>(`${workflowPath(slug)}settings/`, { method: 'PATCH', body: patch });
}

/** Publish a draft: live (`canaryPercent` 0) or as a canary taking that share of new runs. */
export function publishVersion(slug: string, number: number, canaryPercent = 0): Promise<PublishedVersion> {
  return api.post<PublishedVersion>(`${workflowPath(slug)}versions/${number}/publish/`, { canary_percent: canaryPercent });
}

export function promoteCanary(slug: string): Promise<ReleaseSettings> {
  return api.post<ReleaseSettings>(`${workflowPath(slug)}canary/promote/`, {});
}

export function abortCanary(slug: string, reason = ''): Promise<ReleaseSettings> {
  return api.post<ReleaseSettings>(`${workflowPath(slug)}canary/abort/`, reason ? { reason } : {});
}
