/**
 * Keep one page of the board's run table current: pages from GET /api/v1/runs/ and
 * live events, merged so that neither an older page nor an older event wins.
 */

import { isAfter, pagePosition, positionOf, type StreamPosition } from '../api/streamPosition';
import type { RunError, RunEvent, RunListItem, RunListPage, RunState } from '../api/types';
import { RUN_STATES } from '../api/types';

export const TERMINAL_STATES: ReadonlySet<string> = new Set([
  'succeeded',
  'failed',
  'cancelled',
  'compensated',
  'compensation_failed',
]);

export const ACTIVE_STATES: readonly RunState[] = ['pending', 'running', 'paused', 'compensating'];

const KNOWN_STATES: ReadonlySet<string> = new Set(RUN_STATES);

export interface TableRow extends RunListItem {
  /** Newest event this row already reflects: a page's position, or a live event's. */
  basis: StreamPosition;
  /** Id of the last live event that changed the state, for a brief highlight. */
  changedByEventId: number;
}

export interface TableState {
  loaded: boolean;
  rows: TableRow[];
  count: number;
  /** The server stopped counting: `count` is a lower bound. */
  countCapped: boolean;
  /** Set when a live event may have added, removed or reordered rows of this page. */
  stale: boolean;
}

export const initialTable: TableState = { loaded: false, rows: [], count: 0, countCapped: false, stale: false };

/**
 * Take a fresh page. A row that a live event changed after the page was read keeps
 * what the event said (the page's last event position is read before its rows).
 */
export function tableLoaded(state: TableState, page: RunListPage): TableState {
  const current = new Map(state.rows.map((row) => [row.id, row]));
  const rows = page.results.map((run): TableRow => {
    const row: TableRow = { ...run, basis: pagePosition(page), changedByEventId: 0 };
    const known = current.get(run.id);
    if (known === undefined) return row;
    row.changedByEventId = known.changedByEventId;
    if (!isAfter(known.basis, row.basis)) return row;
    return {
      ...row,
      state: known.state,
      started_at: row.started_at ?? known.started_at,
      finished_at: known.finished_at,
      error: known.error ?? (TERMINAL_STATES.has(known.state) ? row.error : null),
      last_event_at: known.last_event_at,
      stuck: known.stuck,
      basis: known.basis,
    };
  });
  return { loaded: true, rows, count: page.count, countCapped: page.count_capped === true, stale: false };
}

/**
 * Apply one live event to the rows it names. Returns the same state when nothing
 * changed. A run_* event for a run not on the page marks the page stale (a new run,
 * or one that now matches the filters): the caller reloads it. `stateMatters` says
 * whether a state change on the page can move rows (a state filter, or a sort by
 * state or time).
 */
export function tableEvent(state: TableState, event: RunEvent, stateMatters = true): TableState {
  if (!state.loaded || event.run_id === null || event.run_id === undefined) return state;
  const setsState = event.kind.startsWith('run_') && KNOWN_STATES.has(event.to_state ?? '');
  const index = state.rows.findIndex((row) => row.id === event.run_id);
  if (index === -1) return setsState && !state.stale ? { ...state, stale: true } : state;
  const row = state.rows[index]!;
  const position = positionOf(event);
  if (!isAfter(position, row.basis)) return state; // The row is already as new.
  let updated: TableRow = {
    ...row,
    basis: position,
    last_event_at: event.created_at,
    stuck: false, // It just spoke.
  };
  if (setsState) updated = withState(updated, event);
  const rows = [...state.rows];
  rows[index] = updated;
  // A state change may move the row out of a state filter or within a sort order.
  return { ...state, rows, stale: state.stale || (setsState && stateMatters) };
}

function withState(row: TableRow, event: RunEvent): TableRow {
  const state = event.to_state as RunState;
  const updated: TableRow = { ...row, state, changedByEventId: event.id };
  if (state === 'running' && updated.started_at === null) updated.started_at = event.created_at;
  if (TERMINAL_STATES.has(state)) {
    updated.finished_at ??= event.created_at;
  } else if (state === 'pending' || state === 'running' || state === 'paused') {
    updated.finished_at = null; // Retried from failure: running again.
    updated.error = null;
  }
  const error = errorOf(event.data);
  if (error !== null) updated.error = error;
  return updated;
}

/** Return the `{type, message}` an event carries in `data.error`, if any. */
export function errorOf(data: unknown): RunError | null {
  if (typeof data !== 'object' || data === null) return null;
  const error = (data as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return null;
  const { type, message } = error as { type?: unknown; message?: unknown };
  if (typeof message !== 'string') return null;
  return { type: typeof type === 'string' ? type : 'Error', message };
}

export interface PageInfo {
  first: number; // 1-based index of the first row shown, 0 when empty
  last: number;
  hasPrevious: boolean;
  hasNext: boolean;
}

export function pageInfo(offset: number, limit: number, shown: number, count: number): PageInfo {
  return {
    first: shown === 0 ? 0 : offset + 1,
    last: offset + shown,
    hasPrevious: offset > 0,
    hasNext: offset + limit < count,
  };
}

/** The state filter choices: one state, all active ones, or any. */
export const STATE_FILTERS: readonly { value: string; label: string }[] = [
  { value: '', label: 'All states' },
  { value: ACTIVE_STATES.join(','), label: 'Active states' },
  ...RUN_STATES.map((s) => ({ value: s, label: s.replace(/_/g, ' ') })),
];

export const SORTS: readonly { value: string; label: string }[] = [
  { value: 'newest', label: 'Newest first' },
  { value: 'oldest', label: 'Oldest first' },
  { value: 'started', label: 'Recently started' },
  { value: 'finished', label: 'Recently finished' },
  { value: 'state', label: 'State' },
  { value: 'workflow', label: 'Workflow' },
];

/** Say whether a run's state change can move rows of a page read with this query. */
export function stateMattersFor(query: { state: string; sort: string }): boolean {
  return query.state !== '' || ['state', 'started', 'finished'].includes(query.sort);
}
