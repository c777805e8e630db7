/** A run's step logs: GET /api/v1/runs/<id>/logs/ (an attempt's chunks, or a search) and the export's URL. */

import { api } from '../../api/client';

/** Lines of one attempt's log: a stored chunk, or one line a search found. */
export interface LogText {
  attempt: number | null;
  map_item: number | null;
  number: number;
  node_id: string;
  seq: number;
  first_line: number;
  lines: number;
  text: string;
  /** The marker line saying what the size bound did not keep. */
  truncated: boolean;
  created_at: string;
}

export interface LogPage {
  results: LogText[];
  /** Send it back as `after` for what follows; null: nothing more for now. */
  next: number | null;
  /** The attempt has finished: no line will be added (null for a search). */
  finished: boolean | null;
  /** A search found more lines in one chunk than an answer holds. */
  clipped: boolean;
}

const logsPath = (runId: number) => `/api/v1/runs/${runId}/logs/`;

/** Return an attempt's chunks after `after` (a seq). */
export function getAttemptLog(runId: number, attemptId: number, after: number, signal?: AbortSignal): Promise<LogPage> {
  const params = new URLSearchParams({ attempt: String(attemptId), after: String(after) });
  return api.get<LogPage>(`${logsPath(runId)}?${params.toString()}`, signal);
}

/** Return lines of the run's log holding `query` (any case), after chunk `after`. */
export function searchRunLog(runId: number, query: string, after: number, signal?: AbortSignal): Promise<LogPage> {
  const params = new URLSearchParams({ q: query, after: String(after) });
  return api.get<LogPage>(`${logsPath(runId)}?${params.toString()}`, signal);
}

export const exportUrl = (runId: number) => `${logsPath(runId)}export/`;
