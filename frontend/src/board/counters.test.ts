/** Tests for the live counters: snapshot, run events moving runs between states. */

import { describe, expect, it } from 'vitest';
import { countedWorkflows, countsEvent, countsLoaded, initialCounts, totalCounts, withWorkflowNames } from './counters';
import { event } from './testEvents';

const snapshot = () =>
  countsLoaded(
    [
      { workflow__slug: 'orders', workflow__name: 'Orders', state: 'running', count: 2 },
      { workflow__slug: 'orders', workflow__name: 'Orders', state: 'succeeded', count: 5 },
      { workflow__slug: 'billing', workflow__name: 'Billing', state: 'failed', count: 1 },
    ],
    [0, 100],
  );

describe('counters', () => {
  it('builds per-workflow counts from the snapshot', () => {
    const state = snapshot();
    expect(state.loaded).toBe(true);
    expect(state.workflows.orders?.counts).toEqual({ running: 2, succeeded: 5 });
    expect(countedWorkflows(state).map((w) => w.slug)).toEqual(['billing', 'orders']);
  });

  it('moves a run from its old state to its new one', () => {
    const state = countsEvent(snapshot(), event(101, 1, 'run_succeeded', 'succeeded', { from_state: 'running' }));
    expect(state.workflows.orders?.counts).toEqual({ running: 1, succeeded: 6 });
    expect(state.last).toEqual([0, 101]);
  });

  it('counts a created run without taking it from anywhere', () => {
    const state = countsEvent(snapshot(), event(101, 9, 'run_created', 'pending', { from_state: '' }));
    expect(state.workflows.orders?.counts.pending).toBe(1);
    expect(totalCounts(state).pending).toBe(1);
  });

  it('adds a workflow first seen in an event, named by its slug until known', () => {
    const state = countsEvent(snapshot(), event(101, 9, 'run_created', 'pending', { workflow: 'new-flow', from_state: '' }));
    expect(state.workflows['new-flow']).toEqual({ slug: 'new-flow', name: 'new-flow', counts: { pending: 1 } });
    const named = withWorkflowNames(state, { 'new-flow': 'New flow' });
    expect(named.workflows['new-flow']?.name).toBe('New flow');
    expect(withWorkflowNames(named, { 'new-flow': 'New flow' })).toBe(named);
  });

  it('ignores events the snapshot already counted, and repeats', () => {
    const state = snapshot();
    expect(countsEvent(state, event(100, 1, 'run_succeeded', 'succeeded', { from_state: 'running' }))).toBe(state);
    const once = countsEvent(state, event(101, 1, 'run_succeeded', 'succeeded', { from_state: 'running' }));
    expect(countsEvent(once, event(101, 1, 'run_succeeded', 'succeeded', { from_state: 'running' }))).toBe(once);
  });

  it('counts an event of a later transaction even when its id is lower', () => {
    const state = countsEvent(snapshot(), { ...event(99, 1, 'run_succeeded', 'succeeded', { from_state: 'running' }), tx: 7 });
    expect(state.workflows.orders?.counts).toEqual({ running: 1, succeeded: 6 });
    expect(state.last).toEqual([7, 99]);
    expect(countsEvent(state, event(150, 1, 'run_failed', 'failed', { from_state: 'running' }))).toBe(state);
  });

  it('ignores step and attempt events but remembers their ids', () => {
    const state = countsEvent(snapshot(), event(101, 1, 'step_succeeded', 'succeeded', { from_state: 'running' }));
    expect(state.workflows.orders?.counts).toEqual({ running: 2, succeeded: 5 });
    expect(state.last).toEqual([0, 101]);
  });

  it('never counts below zero when the snapshot missed a run', () => {
    const state = countsEvent(snapshot(), event(101, 1, 'run_running', 'running', { workflow: 'billing', from_state: 'pending' }));
    expect(state.workflows.billing?.counts).toEqual({ failed: 1, pending: 0, running: 1 });
  });

  it('follows a retried run back to running', () => {
    const state = countsEvent(snapshot(), event(101, 1, 'run_running', 'running', { workflow: 'billing', from_state: 'failed' }));
    expect(state.workflows.billing?.counts).toEqual({ failed: 0, running: 1 });
  });

  it('names a workflow first seen in an event when its name was learnt before', () => {
    const named = withWorkflowNames(snapshot(), { fresh: 'Fresh flow' });
    const state = countsEvent(named, event(101, 9, 'run_created', 'pending', { workflow: 'fresh', from_state: '' }));
    expect(state.workflows.fresh?.name).toBe('Fresh flow');
  });

  it('waits for the snapshot before counting', () => {
    expect(countsEvent(initialCounts, event(1, 1, 'run_created', 'pending'))).toBe(initialCounts);
  });

  it('adds up the totals over workflows', () => {
    const totals = totalCounts(snapshot());
    expect(totals).toMatchObject({ running: 2, succeeded: 5, failed: 1, pending: 0 });
  });
});
