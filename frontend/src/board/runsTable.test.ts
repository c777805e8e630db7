/** Tests for the run table: pages and live events merged without regressions. */

import { describe, expect, it } from 'vitest';
import type { RunListItem } from '../api/types';
import { initialTable, pageInfo, stateMattersFor, tableEvent, tableLoaded, type TableState } from './runsTable';
import { event, listItem } from './testEvents';

function page(results: RunListItem[], lastEventId: number, count = results.length) {
  return { count, next: null, previous: null, results, last_event_id: lastEventId };
}

const loaded = (rows: RunListItem[], lastEventId = 10): TableState => tableLoaded(initialTable, page(rows, lastEventId));

describe('run table', () => {
  it('takes a page and its count', () => {
    const state = loaded([listItem(2), listItem(1)], 10);
    expect(state.loaded).toBe(true);
    expect(state.rows.map((r) => r.id)).toEqual([2, 1]);
    expect(state.rows[0]?.basis).toEqual([0, 10]);
    expect(state.stale).toBe(false);
  });

  it('moves a row to the state of a newer run event and clears its stuck flag', () => {
    const state = tableEvent(loaded([listItem(1, { state: 'running', stuck: true })]), event(11, 1, 'run_succeeded', 'succeeded'));
    expect(state.rows[0]).toMatchObject({ state: 'succeeded', stuck: false, finished_at: '2025-01-01T00:00:11Z', basis: [0, 11], changedByEventId: 11 });
  });

  it('ignores events older than the page', () => {
    const state = loaded([listItem(1, { state: 'succeeded' })], 10);
    expect(tableEvent(state, event(9, 1, 'run_running', 'running'))).toBe(state);
  });

  it('records liveness from step events without changing the state', () => {
    const state = tableEvent(loaded([listItem(1, { state: 'running', stuck: true })]), event(11, 1, 'step_running', 'running'));
    expect(state.rows[0]).toMatchObject({ state: 'running', stuck: false, last_event_at: '2025-01-01T00:00:11Z' });
    expect(state.stale).toBe(false);
  });

  it('marks the page stale when a run it does not show changes', () => {
    const state = tableEvent(loaded([listItem(1)]), event(11, 7, 'run_created', 'pending'));
    expect(state.stale).toBe(true);
    expect(tableEvent(state, event(12, 8, 'run_created', 'pending'))).toBe(state);
  });

  it('marks the page stale on a state change only when state can move rows', () => {
    const base = loaded([listItem(1, { state: 'running' })]);
    expect(tableEvent(base, event(11, 1, 'run_succeeded', 'succeeded'), false).stale).toBe(false);
    expect(tableEvent(base, event(11, 1, 'run_succeeded', 'succeeded'), true).stale).toBe(true);
    expect(stateMattersFor({ state: '', sort: 'newest' })).toBe(false);
    expect(stateMattersFor({ state: 'running', sort: 'newest' })).toBe(true);
    expect(stateMattersFor({ state: '', sort: 'finished' })).toBe(true);
  });

  it('keeps a state from an event newer than a reloaded page', () => {
    const live = tableEvent(loaded([listItem(1, { state: 'running' })], 10), event(15, 1, 'run_succeeded', 'succeeded'));
    const reloaded = tableLoaded(live, page([listItem(1, { state: 'running' })], 12));
    expect(reloaded.rows[0]).toMatchObject({ state: 'succeeded', basis: [0, 15] });
  });

  it('takes the reloaded page when it is as new as the events', () => {
    const live = tableEvent(loaded([listItem(1, { state: 'running' })], 10), event(15, 1, 'run_failed', 'failed'));
    const reloaded = tableLoaded(live, page([listItem(1, { state: 'failed', error: { type: 'Boom', message: 'x' } })], 15));
    expect(reloaded.rows[0]).toMatchObject({ state: 'failed', error: { type: 'Boom', message: 'x' }, basis: [0, 15] });
  });

  it('clears the error and finish time when a run is retried', () => {
    const failed = loaded([listItem(1, { state: 'failed', finished_at: '2025-01-01T00:00:05Z', error: { type: 'E', message: 'm' } })]);
    const state = tableEvent(failed, event(11, 1, 'run_running', 'running', { from_state: 'failed' }));
    expect(state.rows[0]).toMatchObject({ state: 'running', finished_at: null, error: null });
  });

  it('takes the error an event carries', () => {
    const state = tableEvent(
      loaded([listItem(1, { state: 'running' })]),
      event(11, 1, 'run_failed', 'failed', { data: { error: { type: 'StepFailed', message: 'no' } } }),
    );
    expect(state.rows[0]?.error).toEqual({ type: 'StepFailed', message: 'no' });
  });

  it('ignores events before the first page and events without a run', () => {
    expect(tableEvent(initialTable, event(1, 1, 'run_created', 'pending'))).toBe(initialTable);
    const state = loaded([listItem(1)]);
    expect(tableEvent(state, event(11, null, 'budget_refill', null))).toBe(state);
  });
});

describe('pageInfo', () => {
  it('describes the rows shown and whether there are more', () => {
    expect(pageInfo(0, 25, 25, 60)).toEqual({ first: 1, last: 25, hasPrevious: false, hasNext: true });
    expect(pageInfo(50, 25, 10, 60)).toEqual({ first: 51, last: 60, hasPrevious: true, hasNext: false });
    expect(pageInfo(0, 25, 0, 0)).toEqual({ first: 0, last: 0, hasPrevious: false, hasNext: false });
  });
});
