/** Retention counts per workflow (GET /api/v1/retention/). */

import { api } from './client';

export interface RetentionRow {
  workflow: string; // slug
  workflow_name: string;
  /** Days finished runs are kept; null: forever. */
  retention_days: number | null;
  archive: boolean;
  /** Finished runs past the window, counted up to 10,000 (`due_capped`). */
  due: number;
  due_capped: boolean;
  pruned_total: number;
  archived_total: number;
  last_pruned_at: string | null;
}

export function getRetention(signal?: AbortSignal): Promise<{ results: RetentionRow[] }> {
  return api.get<{ results: RetentionRow[] }>('/api/v1/retention/', signal);
}

/** Say how long a workflow keeps its finished runs. */
export function keepLabel(row: RetentionRow): string {
  if (row.retention_days === null) return 'kept forever';
  const days = `${row.retention_days} day${row.retention_days === 1 ? '' : 's'}`;
  return row.archive ? `${days}, archived` : days;
}
