/** Bulk job endpoints: create, list, cancel (GET/POST /api/v1/bulk/…). */

import { api } from '../api/client';
import type { Page } from '../api/types';

export type BulkAction = 'cancel' | 'retry' | 'rerun';
export type BulkState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface BulkRunError {
  run_id: number;
  outcome: 'skipped' | 'failed';
  code: string;
  message: string;
}

export interface BulkJob {
  id: number;
  action: BulkAction;
  version: string;
  reason: string;
  filter: Record<string, string>;
  state: BulkState;
  total: number;
  processed: number;
  done: number;
  skipped: number;
  failed: number;
  /** {reason code: runs} of skipped and failed runs. */
  reasons: Record<string, number>;
  /** The first 100 skipped or failed runs. */
  errors: BulkRunError[];
  error: string;
  actor: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface BulkRequest {
  action: BulkAction;
  filter?: Record<string, string>;
  ids?: number[];
  version?: string | number;
  reason?: string;
}

export const ACTIVE: ReadonlySet<BulkState> = new Set(['queued', 'running']);

export function createBulkJob(request: BulkRequest): Promise<BulkJob> {
  return api.post<BulkJob>('/api/v1/bulk/', request);
}

export function listBulkJobs(limit: number, signal?: AbortSignal): Promise<Page<BulkJob>> {
  return api.get<Page<BulkJob>>(`/api/v1/bulk/?limit=${limit}`, signal);
}

export function cancelBulkJob(id: number): Promise<BulkJob> {
  return api.post<BulkJob>(`/api/v1/bulk/${id}/cancel/`, {});
}

/** The job's progress bar in percent of its total: done, skipped, failed. */
export function progressParts(job: Pick<BulkJob, 'total' | 'done' | 'skipped' | 'failed'>): { done: number; skipped: number; failed: number } {
  if (job.total <= 0) return { done: 0, skipped: 0, failed: 0 };
  const pct = (n: number) => Math.min(100, Math.max(0, (n / job.total) * 100));
  return { done: pct(job.done), skipped: pct(job.skipped), failed: pct(job.failed) };
}

const VERBS: Record<BulkAction, string> = { cancel: 'Cancel', retry: 'Retry', rerun: 'Re-run' };

/** "Cancel", "Retry on version 3", "Re-run on the live version". */
export function actionLabel(action: BulkAction, version = ''): string {
  const verb = VERBS[action];
  if (action === 'cancel' || !version || (action === 'retry' && version === 'original')) return verb;
  if (version === 'live') return `${verb} on the live version`;
  if (version === 'original') return `${verb} on the same version`;
  return `${verb} on version ${version}`;
}
