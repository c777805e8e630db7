/** A map step's items: GET /api/v1/runs/<id>/steps/<step id>/items/, in item order. */

import { api } from './client';
import type { StepError } from './types';

export interface MapItem {
  index: number;
  state: string;
  attempts: number;
  item: unknown;
  output: unknown;
  error: StepError | null;
  updated_at: string;
}

export interface MapItemPage {
  count: number;
  results: MapItem[];
}

export interface MapItemQuery {
  state?: string;
  limit: number;
  offset: number;
}

export function listMapItems(runId: number, stepId: number, query: MapItemQuery, signal?: AbortSignal): Promise<MapItemPage> {
  const params = new URLSearchParams({ limit: String(query.limit), offset: String(query.offset) });
  if (query.state) params.set('state', query.state);
  return api.get<MapItemPage>(`/api/v1/runs/${runId}/steps/${stepId}/items/?${params.toString()}`, signal);
}
