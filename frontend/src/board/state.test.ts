/** Tests for the board reducer: loading, live events, unknown runs, fetch races. */

import { describe, expect, it } from 'vitest';
import type { RunEvent, RunSummary } from '../api/types';
import {
  boardReducer,
  boardRuns,
  countByState,
  filterRuns,
  initialBoardState,
  MAX_BOARD_RUNS,
  type BoardAction,
  type BoardState,
} from './state';

function run(id: number, overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    id,
    workflow: 'orders',
    workflow_name: 'Orders',
    version: 1,
    state: 'pending',
    created_at: '2025-01-01T00:00:00Z',
    started_at: null,
    finished_at: null,
    error: null,
    ...overrides,
  };
}

function event(id: number, runId: number, kind: string, toState: string | null, extra: Partial<RunEvent> = {}): RunEvent {
  return {
    id,
    kind,
    run_id: runId,
    step_id: null,
    workflow: 'orders',
    version: 1,
    node_id: null,
    from_state: null,
    to_state: toState,
    actor: 'system',
    reason: null,
    data: {},
    created_at: `2025-01-01T00:00:${String(id % 60).padStart(2, '0')}Z`,
    ...extra,
  };
}

function reduce(actions: BoardAction[], start: BoardState = initialBoardState): BoardState {
  return actions.reduce(boardReducer, start);
}

function loaded(runs: RunSummary[], lastEventId = 10): BoardState {
  return reduce([{ type: 'loaded', runs, lastEventId }]);
}

describe('boardReducer', () => {
  it('loads runs newest first and keeps the last event id', () => {
    const state = loaded([run(1), run(3), run(2)], 42);
    expect(state.loaded).toBe(true);
    expect(state.order).toEqual([3, 2, 1]);
    expect(state.lastEventId).toBe(42);
  });

  it('sets a known run state from a run_ event to_state', () => {
    const state = reduce([{ type: 'event', event: event(11, 1, 'run_running', 'running') }], loaded([run(1)]));
    expect(state.runs[1]?.state).toBe('running');
    expect(state.runs[1]?.started_at).toBe('2025-01-01T00:00:11Z');
    expect(state.lastEventId).toBe(11);
    expect(state.toFetch).toEqual([]);
  });

  it('records when a run finishes', () => {
    const state = reduce(
      [
        { type: 'event', event: event(11, 1, 'run_running', 'running') },
        { type: 'event', event: event(12, 1, 'run_succeeded', 'succeeded') },
      ],
      loaded([run(1)]),
    );
    expect(state.runs[1]?.state).toBe('succeeded');
    expect(state.runs[1]?.finished_at).toBe('2025-01-01T00:00:12Z');
  });

  it('leaves the run state alone on step and attempt events', () => {
    const state = reduce(
      [{ type: 'event', event: event(11, 1, 'step_running', 'running', { step_id: 5 }) }],
      loaded([run(1)]),
    );
    expect(state.runs[1]?.state).toBe('pending');
    expect(state.lastEventId).toBe(11);
  });

  it('ignores events it has already applied', () => {
    const first = reduce([{ type: 'event', event: event(11, 1, 'run_running', 'running') }], loaded([run(1)]));
    const again = reduce(
      [
        { type: 'event', event: event(11, 1, 'run_failed', 'failed') },
        { type: 'event', event: event(5, 1, 'run_cancelled', 'cancelled') },
      ],
      first,
    );
    expect(again).toBe(first);
  });

  it('adds an unknown run at the top and marks it to be fetched', () => {
    const state = reduce([{ type: 'event', event: event(11, 7, 'run_created', 'pending') }], loaded([run(1), run(2)]));
    expect(state.order).toEqual([7, 2, 1]);
    expect(state.runs[7]).toMatchObject({ id: 7, state: 'pending', workflow: 'orders', incomplete: true });
    expect(state.toFetch).toEqual([7]);
  });

  it('fetches an unknown run named only by a step event, without inventing a row', () => {
    const state = reduce([{ type: 'event', event: event(11, 9, 'step_queued', 'queued') }], loaded([run(1)]));
    expect(state.runs[9]).toBeUndefined();
    expect(state.toFetch).toEqual([9]);
  });

  it('asks for each unknown run once', () => {
    const state = reduce(
      [
        { type: 'event', event: event(11, 7, 'run_created', 'pending') },
        { type: 'event', event: event(12, 7, 'step_queued', 'queued') },
        { type: 'fetchStarted', ids: [7] },
        { type: 'event', event: event(13, 7, 'step_running', 'running') },
      ],
      loaded([]),
    );
    expect(state.toFetch).toEqual([]);
    expect(state.fetching).toEqual({ 7: 12 });
  });

  it('fills a placeholder with the fetched run', () => {
    const state = reduce(
      [
        { type: 'event', event: event(11, 7, 'run_created', 'pending') },
        { type: 'fetchStarted', ids: [7] },
        { type: 'fetched', run: run(7, { workflow_name: 'Order intake', state: 'pending' }) },
      ],
      loaded([]),
    );
    expect(state.runs[7]).toMatchObject({ workflow_name: 'Order intake', incomplete: false, state: 'pending' });
    expect(state.fetching).toEqual({});
  });

  it('keeps a state from an event that arrived while the fetch was in flight', () => {
    const state = reduce(
      [
        { type: 'event', event: event(11, 7, 'run_created', 'pending') },
        { type: 'fetchStarted', ids: [7] },
        { type: 'event', event: event(12, 7, 'run_running', 'running') },
        { type: 'fetched', run: run(7, { workflow_name: 'Order intake', state: 'pending' }) },
      ],
      loaded([]),
    );
    expect(state.runs[7]).toMatchObject({ state: 'running', workflow_name: 'Order intake' });
  });

  it('takes the fetched state over events older than the fetch', () => {
    const state = reduce(
      [
        { type: 'event', event: event(11, 7, 'run_created', 'pending') },
        { type: 'fetchStarted', ids: [7] },
        { type: 'fetched', run: run(7, { state: 'running', started_at: '2025-01-01T00:01:00Z' }) },
      ],
      loaded([]),
    );
    expect(state.runs[7]?.state).toBe('running');
  });

  it('fetches a failed run to learn its error, and clears it when retried', () => {
    const failed = reduce([{ type: 'event', event: event(11, 1, 'run_failed', 'failed') }], loaded([run(1, { state: 'running' })]));
    expect(failed.toFetch).toEqual([1]);
    const fetched = reduce(
      [
        { type: 'fetchStarted', ids: [1] },
        { type: 'fetched', run: run(1, { state: 'failed', error: { type: 'HttpError', message: 'boom' } }) },
      ],
      failed,
    );
    expect(fetched.runs[1]?.error).toEqual({ type: 'HttpError', message: 'boom' });
    const retried = reduce([{ type: 'event', event: event(12, 1, 'run_running', 'running') }], fetched);
    expect(retried.runs[1]).toMatchObject({ state: 'running', error: null, finished_at: null });
  });

  it('uses an error carried by the event instead of fetching', () => {
    const state = reduce(
      [{ type: 'event', event: event(11, 1, 'run_failed', 'failed', { data: { error: { type: 'StepFailed', message: 'no' } } }) }],
      loaded([run(1, { state: 'running' })]),
    );
    expect(state.runs[1]?.error).toEqual({ type: 'StepFailed', message: 'no' });
    expect(state.toFetch).toEqual([]);
  });

  it('forgets a failed fetch so a later event can ask again', () => {
    const state = reduce(
      [
        { type: 'event', event: event(11, 9, 'step_queued', 'queued') },
        { type: 'fetchStarted', ids: [9] },
        { type: 'fetchFailed', id: 9 },
        { type: 'event', event: event(12, 9, 'step_running', 'running') },
      ],
      loaded([]),
    );
    expect(state.fetching).toEqual({});
    expect(state.toFetch).toEqual([9]);
  });

  it('keeps at most MAX_BOARD_RUNS runs, dropping the oldest', () => {
    const runs = Array.from({ length: MAX_BOARD_RUNS }, (_, i) => run(i + 1));
    const state = reduce(
      [{ type: 'event', event: event(11, MAX_BOARD_RUNS + 1, 'run_created', 'pending') }],
      loaded(runs),
    );
    expect(state.order).toHaveLength(MAX_BOARD_RUNS);
    expect(state.order[0]).toBe(MAX_BOARD_RUNS + 1);
    expect(state.runs[1]).toBeUndefined();
  });

  it('ignores events without a run', () => {
    const state = reduce([{ type: 'event', event: { ...event(11, 1, 'version_published', null), run_id: null } }], loaded([run(1)]));
    expect(state.lastEventId).toBe(11);
    expect(state.toFetch).toEqual([]);
  });
});

describe('board selectors', () => {
  const state = loaded([
    run(1, { state: 'running' }),
    run(2, { state: 'failed', workflow: 'refunds', workflow_name: 'Refunds' }),
    run(3, { state: 'paused' }),
    run(4, { state: 'compensating' }),
    run(5, { state: 'succeeded' }),
  ]);

  it('counts headline states and puts the rest in other', () => {
    expect(countByState(boardRuns(state))).toEqual({
      pending: 0,
      running: 1,
      succeeded: 1,
      failed: 1,
      cancelled: 0,
      other: 2,
    });
  });

  it('filters by workflow and state', () => {
    const runs = boardRuns(state);
    expect(filterRuns(runs, { workflow: 'refunds', state: '' }).map((r) => r.id)).toEqual([2]);
    expect(filterRuns(runs, { workflow: 'orders', state: 'paused' }).map((r) => r.id)).toEqual([3]);
    expect(filterRuns(runs, { workflow: '', state: '' })).toHaveLength(5);
  });
});
