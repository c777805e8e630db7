/** Apply run lists, live events and fetched runs to the board's run summaries (no React). */

import type { RunError, RunEvent, RunState, RunSummary } from '../api/types';

/** Oldest rows beyond this are dropped so a long-open board stays fast. */
export const MAX_BOARD_RUNS = 500;

export const TERMINAL_STATES: ReadonlySet<string> = new Set([
  'succeeded',
  'failed',
  'cancelled',
  'compensated',
  'compensation_failed',
]);

const FAILED_STATES: ReadonlySet<string> = new Set(['failed', 'compensation_failed']);

export interface BoardRun extends RunSummary {
  /** Id of the event that set `state`; 0 when it came from the REST API. */
  stateEventId: number;
  /** Built from an event only: waits for GET /api/v1/runs/{id}/ to fill the rest. */
  incomplete: boolean;
}

export interface BoardState {
  loaded: boolean;
  runs: Record<number, BoardRun>; // {run_id: run}
  order: number[]; // run ids, newest (highest) first
  lastEventId: number;
  toFetch: number[]; // run ids to GET, not requested yet
  fetching: Record<number, number>; // {run_id: lastEventId when its GET was sent}
}

export type BoardAction =
  | { type: 'loaded'; runs: RunSummary[]; lastEventId: number }
  | { type: 'event'; event: RunEvent }
  | { type: 'fetchStarted'; ids: number[] }
  | { type: 'fetched'; run: RunSummary }
  | { type: 'fetchFailed'; id: number };

export const initialBoardState: BoardState = {
  loaded: false,
  runs: {},
  order: [],
  lastEventId: 0,
  toFetch: [],
  fetching: {},
};

export function boardReducer(state: BoardState, action: BoardAction): BoardState {
  switch (action.type) {
    case 'loaded':
      return applyLoaded(state, action.runs, action.lastEventId);
    case 'event':
      return applyEvent(state, action.event);
    case 'fetchStarted': {
      const started = new Set(action.ids);
      const fetching = { ...state.fetching };
      for (const id of action.ids) fetching[id] = state.lastEventId;
      return { ...state, fetching, toFetch: state.toFetch.filter((id) => !started.has(id)) };
    }
    case 'fetched':
      return applyFetched(state, action.run);
    case 'fetchFailed': {
      if (!(action.id in state.fetching)) return state;
      const fetching = { ...state.fetching };
      delete fetching[action.id];
      return { ...state, fetching };
    }
  }
}

function applyLoaded(state: BoardState, runs: RunSummary[], lastEventId: number): BoardState {
  const byId: Record<number, BoardRun> = { ...state.runs };
  for (const run of runs) {
    const current = byId[run.id];
    // A live event may already be newer than the list; keep what it said.
    if (current !== undefined && current.stateEventId > lastEventId) continue;
    byId[run.id] = { ...summaryOf(run), stateEventId: 0, incomplete: false };
  }
  return trim({
    ...state,
    loaded: true,
    runs: byId,
    order: sortedIds(byId),
    lastEventId: Math.max(state.lastEventId, lastEventId),
  });
}

function applyEvent(state: BoardState, event: RunEvent): BoardState {
  if (event.id <= state.lastEventId) return state; // Already applied.
  const next: BoardState = { ...state, lastEventId: event.id };
  const runId = event.run_id;
  if (runId === null || runId === undefined) return next;
  const current = state.runs[runId];
  const setsState = event.kind.startsWith('run_') && typeof event.to_state === 'string';

  if (current === undefined) {
    const withFetch = queueFetch(next, runId);
    if (!setsState) return withFetch;
    const placeholder: BoardRun = {
      id: runId,
      workflow: event.workflow ?? '',
      workflow_name: event.workflow ?? '',
      version: event.version ?? 0,
      state: event.to_state as RunState,
      created_at: event.created_at,
      started_at: null,
      finished_at: null,
      error: null,
      stateEventId: event.id,
      incomplete: true,
    };
    const runs = { ...withFetch.runs, [runId]: withState(placeholder, event) };
    return trim({ ...withFetch, runs, order: insertId(withFetch.order, runId) });
  }

  if (!setsState) return next;
  const updated = withState(current, event);
  const result = { ...next, runs: { ...next.runs, [runId]: updated } };
  // Failure events may not carry the error: fetch the run to show its message.
  if (FAILED_STATES.has(updated.state) && updated.error === null) return queueFetch(result, runId);
  return result;
}

/** Return the run with the state an event moved it to, and the times that implies. */
function withState(run: BoardRun, event: RunEvent): BoardRun {
  const state = event.to_state as RunState;
  const updated: BoardRun = { ...run, state, stateEventId: event.id };
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

function applyFetched(state: BoardState, run: RunSummary): BoardState {
  const sentAt = state.fetching[run.id];
  const fetching = { ...state.fetching };
  delete fetching[run.id];
  const current = state.runs[run.id];
  let merged: BoardRun = {
    ...summaryOf(run),
    stateEventId: current?.stateEventId ?? 0,
    incomplete: false,
  };
  // An event that arrived after the GET was sent may be newer than the response;
  // any change newer than that event brings its own event, so the event wins.
  if (current !== undefined && current.stateEventId > (sentAt ?? 0)) {
    merged = {
      ...merged,
      state: current.state,
      started_at: merged.started_at ?? current.started_at,
      finished_at: current.finished_at,
      error: current.error ?? (TERMINAL_STATES.has(current.state) ? merged.error : null),
    };
  }
  const runs = { ...state.runs, [run.id]: merged };
  const order = current === undefined ? insertId(state.order, run.id) : state.order;
  return trim({ ...state, fetching, runs, order });
}

function queueFetch(state: BoardState, runId: number): BoardState {
  if (state.toFetch.includes(runId) || runId in state.fetching) return state;
  return { ...state, toFetch: [...state.toFetch, runId] };
}

function errorOf(data: unknown): RunError | null {
  if (typeof data !== 'object' || data === null) return null;
  const error = (data as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return null;
  const { type, message } = error as { type?: unknown; message?: unknown };
  if (typeof message !== 'string') return null;
  return { type: typeof type === 'string' ? type : 'Error', message };
}

/** Keep only the summary fields (a run detail also carries steps, input, output). */
function summaryOf(run: RunSummary): RunSummary {
  return {
    id: run.id,
    workflow: run.workflow,
    workflow_name: run.workflow_name,
    version: run.version,
    state: run.state,
    created_at: run.created_at,
    started_at: run.started_at,
    finished_at: run.finished_at,
    error: run.error ?? null,
  };
}

function sortedIds(runs: Record<number, BoardRun>): number[] {
  return Object.keys(runs)
    .map(Number)
    .sort((a, b) => b - a);
}

function insertId(order: number[], id: number): number[] {
  if (order.includes(id)) return order;
  const at = order.findIndex((other) => other < id);
  return at === -1 ? [...order, id] : [...order.slice(0, at), id, ...order.slice(at)];
}

function trim(state: BoardState): BoardState {
  if (state.order.length <= MAX_BOARD_RUNS) return state;
  const runs = { ...state.runs };
  for (const id of state.order.slice(MAX_BOARD_RUNS)) delete runs[id];
  return { ...state, runs, order: state.order.slice(0, MAX_BOARD_RUNS) };
}

/** Return the runs in board order (newest first). */
export function boardRuns(state: BoardState): BoardRun[] {
  return state.order.flatMap((id) => state.runs[id] ?? []);
}

export interface BoardFilter {
  workflow: string; // slug, '' for all
  state: string; // run state, '' for all
}

export function filterRuns(runs: BoardRun[], filter: BoardFilter): BoardRun[] {
  return runs.filter(
    (run) =>
      (filter.workflow === '' || run.workflow === filter.workflow) &&
      (filter.state === '' || run.state === filter.state),
  );
}

export const COUNTED_STATES = ['pending', 'running', 'succeeded', 'failed', 'cancelled'] as const;

export type StateCounts = Record<(typeof COUNTED_STATES)[number] | 'other', number>;

/** Count runs per headline state; every other state goes to `other`. */
export function countByState(runs: BoardRun[]): StateCounts {
  const counts: StateCounts = { pending: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, other: 0 };
  for (const run of runs) {
    const key = (COUNTED_STATES as readonly string[]).includes(run.state)
      ? (run.state as keyof StateCounts)
      : 'other';
    counts[key] += 1;
  }
  return counts;
}

/** List the workflows seen on the board as [slug, name], sorted by name. */
export function workflowsOnBoard(runs: BoardRun[]): [string, string][] {
  const names = new Map<string, string>();
  for (const run of runs) {
    if (!names.has(run.workflow) || run.workflow_name !== run.workflow) {
      names.set(run.workflow, run.workflow_name || run.workflow);
    }
  }
  return [...names.entries()].sort((a, b) => a[1].localeCompare(b[1]));
}
