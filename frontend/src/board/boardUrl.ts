/** The board's run filters in the address bar (shareable links; back and forward work). */

import { SORTS, STATE_FILTERS } from './runsTable';

export interface LiveFilters {
  workflow: string;
  version: string;
  state: string;
  queue: string;
  sort: string;
}

export interface LiveLocation extends LiveFilters {
  page: number; // 1-based
}

export const NO_FILTERS: LiveFilters = { workflow: '', version: '', state: '', queue: '', sort: 'newest' };

/** Query parameters of the live tab; the scorecard's are `workflow`, `days`, `a`, `b`. */
export const LIVE_KEYS = ['workflow', 'version', 'state', 'queue', 'sort', 'page'] as const;
const SCORECARD_ONLY_KEYS = ['days', 'a', 'b'] as const;
const MAX_PAGE = 40_000; // the API's deepest offset over the page size
const MAX_TEXT = 200;

function text(params: URLSearchParams, key: string): string {
  return (params.get(key) ?? '').trim().slice(0, MAX_TEXT);
}

/**
 * Read the filters and page from a query string; unknown values fall back to "any".
 * A scorecard link's `workflow` is the scorecard's: the live tab then starts unfiltered.
 */
export function readLiveLocation(search: string): LiveLocation {
  const params = new URLSearchParams(search);
  if (params.get('tab') === 'scorecard') return { ...NO_FILTERS, page: 1 };
  const workflow = text(params, 'workflow');
  const version = text(params, 'version');
  const state = text(params, 'state');
  const sort = text(params, 'sort');
  const page = Number(params.get('page'));
  return {
    workflow,
    version: workflow && /^[1-9][0-9]{0,8}$/.test(version) ? version : '',
    state: STATE_FILTERS.some((s) => s.value === state) ? state : '',
    queue: text(params, 'queue'),
    sort: SORTS.some((s) => s.value === sort) ? sort : 'newest',
    page: Number.isInteger(page) && page >= 1 && page <= MAX_PAGE ? page : 1,
  };
}

/**
 * Write the filters and page into a query string, leaving out the defaults and the
 * scorecard's own parameters; others (the tab) are kept. Returns "" or "?…".
 */
export function writeLiveLocation(search: string, location: LiveLocation): string {
  const params = new URLSearchParams(search);
  for (const key of [...LIVE_KEYS, ...SCORECARD_ONLY_KEYS]) params.delete(key);
  if (location.workflow) params.set('workflow', location.workflow);
  if (location.workflow && location.version) params.set('version', location.version);
  if (location.state) params.set('state', location.state);
  if (location.queue) params.set('queue', location.queue);
  if (location.sort && location.sort !== 'newest') params.set('sort', location.sort);
  if (location.page > 1) params.set('page', String(location.page));
  const query = params.toString();
  return query ? `?${query}` : '';
}

/** The page number of an offset, and back. */
export function pageOf(offset: number, pageSize: number): number {
  return Math.floor(offset / pageSize) + 1;
}

export function offsetOf(page: number, pageSize: number): number {
  return (page - 1) * pageSize;
}
