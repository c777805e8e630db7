/** Recent events across workflows (GET /api/v1/events/): history for the board's feeds. */

import { api } from './client';
import type { RunEvent } from './types';

export interface RecentEvents {
  results: RunEvent[]; // newest first
  last_event_id: number;
  last_event_tx: number;
}

/** Return the query string asking for the newest `limit` events of these kinds. */
export function recentEventsQuery(kinds: readonly string[], limit: number): string {
  const params = new URLSearchParams();
  if (kinds.length > 0) params.set('type', kinds.join(','));
  params.set('limit', String(limit));
  return params.toString();
}

export function listRecentEvents(kinds: readonly string[], limit: number, signal?: AbortSignal): Promise<RecentEvents> {
  return api.get<RecentEvents>(`/api/v1/events/?${recentEventsQuery(kinds, limit)}`, signal);
}
