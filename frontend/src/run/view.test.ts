/** Tests for what the run page derives from steps and events. */

import { describe, expect, it } from 'vitest';
import type { RunEvent, StepDetail } from '../api/types';
import type { WorkflowGraph } from '../graph';
import { canvasHeight, elapsedMs, graphBounds, eventChange, eventSubject, failedNode, MAX_TIMELINE, needsLayout, nodeStates, parseOverrides, takenEdges, timelineAdd } from './view';

function step(id: number, nodeId: string, state: StepDetail['state'], extra: Partial<StepDetail> = {}): StepDetail {
  return {
    id,
    node_id: nodeId,
    seq: 1,
    node_type: 'task',
    state,
    output: null,
    error: null,
    taken_edges: [],
    compensates: null,
    wake_at: null,
    created_at: '2025-01-01T00:00:00Z',
    started_at: null,
    finished_at: null,
    attempts: [],
    ...extra,
  };
}

function ev(id: number, kind = 'step_running', extra: Partial<RunEvent> = {}): RunEvent {
  return {
    id,
    kind,
    run_id: 1,
    step_id: null,
    workflow: 'w',
    version: 1,
    node_id: null,
    from_state: null,
    to_state: null,
    actor: 'system',
    reason: null,
    data: {},
    created_at: '2025-01-01T00:00:00Z',
    ...extra,
  };
}

describe('nodeStates', () => {
  it('gives each node the state of its latest visit', () => {
    const states = nodeStates([
      step(1, 'a', 'succeeded'),
      step(2, 'b', 'failed'),
      step(3, 'b', 'running', { seq: 2 }),
      step(4, 'c', 'retry_wait'),
    ]);
    expect(states).toEqual({ a: 'succeeded', b: 'running', c: 'retry_wait' });
  });

  it('prefers the newer step of the same visit (a retry from failure)', () => {
    expect(nodeStates([step(5, 'a', 'queued'), step(2, 'a', 'failed')])).toEqual({ a: 'queued' });
  });
});

describe('takenEdges', () => {
  it('counts the edges the steps took', () => {
    const taken = takenEdges([step(1, 'a', 'succeeded', { taken_edges: ['e1', 'e2'] }), step(2, 'b', 'succeeded', { taken_edges: ['e2'] })]);
    expect([...taken]).toEqual([
      ['e1', 1],
      ['e2', 2],
    ]);
  });
});

describe('needsLayout', () => {
  const graph = (layout?: WorkflowGraph['layout']): WorkflowGraph => ({
    format: 1,
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'done', type: 'end' },
    ],
    edges: [],
    layout,
  });

  it('lays out a graph missing any position', () => {
    expect(needsLayout(graph())).toBe(true);
    expect(needsLayout(graph({ start: { x: 0, y: 0 } }))).toBe(true);
    expect(needsLayout(graph({ start: { x: 0, y: 0 }, done: { x: 200, y: 0 } }))).toBe(false);
  });
});

describe('timelineAdd', () => {
  it('appends new events, drops repeats, and places a late one in order', () => {
    let events = timelineAdd([], ev(1));
    events = timelineAdd(events, ev(3));
    expect(timelineAdd(events, ev(3))).toBe(events);
    events = timelineAdd(events, ev(2));
    expect(events.map((e) => e.id)).toEqual([1, 2, 3]);
  });

  it('keeps the newest events past the cap', () => {
    let events: readonly RunEvent[] = [];
    for (let id = 1; id <= MAX_TIMELINE + 3; id += 1) events = timelineAdd(events, ev(id));
    expect(events).toHaveLength(MAX_TIMELINE);
    expect(events[0]?.id).toBe(4);
  });
});

describe('parseOverrides', () => {
  it('accepts nothing or a JSON object', () => {
    expect(parseOverrides('  ')).toEqual({ ok: true, value: undefined });
    expect(parseOverrides('{"amount": 10}')).toEqual({ ok: true, value: { amount: 10 } });
  });

  it('refuses other JSON and broken text', () => {
    expect(parseOverrides('[1]').ok).toBe(false);
    expect(parseOverrides('3').ok).toBe(false);
    expect(parseOverrides('{amount: 1}').ok).toBe(false);
  });
});

describe('failedNode', () => {
  it('finds the last failed or cancelled task step, not compensations', () => {
    expect(
      failedNode([
        step(1, 'a', 'succeeded'),
        step(2, 'b', 'failed'),
        step(3, 'undo_a', 'failed', { compensates: 1 }),
        step(4, 'w', 'cancelled', { node_type: 'wait' }),
      ]),
    ).toBe('b');
    expect(failedNode([step(1, 'a', 'succeeded')])).toBeNull();
  });
});

describe('events', () => {
  it('describes a change and its subject', () => {
    expect(eventChange(ev(1, 'run_running', { from_state: 'pending', to_state: 'running' }))).toBe('pending → running');
    expect(eventChange(ev(1, 'run_created', { from_state: '', to_state: 'pending' }))).toBe('pending');
    expect(eventChange(ev(1, 'note'))).toBe('');
    expect(eventSubject(ev(1, 'run_created'))).toBe('run');
    expect(eventSubject(ev(1, 'step_queued'))).toBe('step');
    expect(eventSubject(ev(1, 'retry_deferred'))).toBe('attempt');
    expect(eventSubject(ev(1, 'handoff_opened'))).toBe('other');
  });

  it('measures elapsed time when both ends are known', () => {
    expect(elapsedMs('2025-01-01T00:00:00Z', '2025-01-01T00:00:01.5Z')).toBe(1500);
    expect(elapsedMs(null, '2025-01-01T00:00:00Z')).toBeNull();
  });
});

describe('canvas size', () => {
  const graph: WorkflowGraph = {
    format: 1,
    nodes: [
      { id: 'a', type: 'start' },
      { id: 'b', type: 'end' },
      { id: 'c', type: 'task' },
    ],
    edges: [],
    layout: { a: { x: 10, y: 20 }, b: { x: 510, y: 20 }, c: { x: 260, y: 220 } },
  };

  it('measures the box around the nodes', () => {
    expect(graphBounds(graph, 180, 56)).toEqual({ width: 680, height: 256 });
    expect(graphBounds({ ...graph, layout: {} }, 180, 56)).toEqual({ width: 0, height: 0 });
  });

  it('fits the height to the zoom the width allows, within limits', () => {
    // 1300 px wide chain in 1300 px: zoom 1/1.3, one row of nodes → the minimum.
    expect(canvasHeight({ width: 1300, height: 56 }, 1300)).toBe(220);
    // A tall graph is capped.
    expect(canvasHeight({ width: 400, height: 2000 }, 1200)).toBe(520);
    // In between: zoom capped at 1.1, height 300 × 1.3 × 1.1.
    expect(canvasHeight({ width: 400, height: 300 }, 1200)).toBe(429);
    expect(canvasHeight({ width: 0, height: 0 }, 1200)).toBe(220);
  });
});
