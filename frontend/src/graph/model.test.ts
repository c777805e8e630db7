/** Tests for the graph model: ids, immutable edits, copy/paste and import. */

import { describe, expect, it } from 'vitest';
import { exampleGraph, linearGraph } from './fixtures';
import {
  addNode,
  connect,
  copyFragment,
  emptyGraph,
  moveNodes,
  newEdgeId,
  newNodeId,
  NODE_ID_PATTERN,
  normalizeGraph,
  pasteFragment,
  removeElements,
  updateEdge,
  updateNode,
} from './model';
import type { WorkflowGraph } from './types';
import { validateGraph } from './validate';

/** Freeze a graph all the way down, so that any mutation throws. */
function frozen<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(frozen);
    Object.freeze(value);
  }
  return value;
}

function ids(graph: WorkflowGraph): { nodes: string[]; edges: string[] } {
  return { nodes: graph.nodes.map((n) => n.id), edges: graph.edges.map((e) => e.id) };
}

describe('emptyGraph', () => {
  it('is start → done with a layout and default retries, and valid', () => {
    const graph = emptyGraph();
    expect(graph.nodes).toEqual([
      { id: 'start', type: 'start' },
      { id: 'done', type: 'end' },
    ]);
    expect(graph.edges).toEqual([{ id: 'e1', source: 'start', target: 'done' }]);
    expect(Object.keys(graph.layout!)).toEqual(['start', 'done']);
    expect(graph.defaults).toEqual({ retry: { max_attempts: 3 } });
    expect(validateGraph(graph, null)).toEqual({ errors: [], warnings: [] });
  });

  it('returns a new graph each time', () => {
    expect(emptyGraph()).not.toBe(emptyGraph());
    expect(emptyGraph().nodes).not.toBe(emptyGraph().nodes);
  });
});

describe('ids', () => {
  it('numbers nodes per type, above the highest in use, in the server’s id pattern', () => {
    const graph = frozen(exampleGraph());
    expect(newNodeId(graph, 'task')).toBe('task_1');
    const withTasks = { ...graph, nodes: [...graph.nodes, { id: 'task_1', type: 'task' as const }, { id: 'task_7', type: 'task' as const }] };
    expect(newNodeId(withTasks, 'task')).toBe('task_8');
    expect(newNodeId(withTasks, 'handoff')).toBe('handoff_1');
    for (const type of ['task', 'end', 'choice', 'parallel', 'join', 'handoff', 'wait'] as const) {
      expect(newNodeId(graph, type)).toMatch(NODE_ID_PATTERN);
    }
  });

  it('names a first start "start" and a second one apart', () => {
    expect(newNodeId({ format: 1, nodes: [], edges: [] }, 'start')).toBe('start');
    expect(newNodeId(emptyGraph(), 'start')).toBe('start_1');
  });

  it('numbers edges above the highest e<n> in use', () => {
    expect(newEdgeId(emptyGraph())).toBe('e2');
    expect(newEdgeId(exampleGraph())).toBe('e14');
    expect(newEdgeId({ format: 1, nodes: [], edges: [{ id: 'xy-edge__a-b', source: 'a', target: 'b' }] })).toBe('e1');
  });
});

describe('addNode', () => {
  it('adds a node with its type’s defaults at the position, leaving the input alone', () => {
    const before = frozen(emptyGraph());
    const { graph, id } = addNode(before, 'task', { x: 10, y: 20 });
    expect(id).toBe('task_1');
    expect(graph.nodes.at(-1)).toEqual({ id: 'task_1', type: 'task', action: 'builtin.noop' });
    expect(graph.layout![id]).toEqual({ x: 10, y: 20 });
    expect(before.nodes).toHaveLength(2);
    expect(before.layout).not.toHaveProperty(id);
  });

  it.each([
    ['join', { mode: 'all' }],
    ['wait', { seconds: 60 }],
    ['handoff', { to: { group: '' }, outcomes: ['approve', 'reject'] }],
    ['choice', {}],
    ['end', {}],
  ] as const)('gives a %s node its defaults', (type, fields) => {
    const { graph, id } = addNode(emptyGraph(), type, { x: 0, y: 0 });
    expect(graph.nodes.find((n) => n.id === id)).toEqual({ id, type, ...fields });
  });

  it('lets fields override the defaults', () => {
    const { graph, id } = addNode(emptyGraph(), 'task', { x: 0, y: 0 }, { action: 'builtin.http', label: 'Charge' });
    expect(graph.nodes.find((n) => n.id === id)).toMatchObject({ action: 'builtin.http', label: 'Charge' });
  });
});

describe('removeElements', () => {
  it('removes a node with its edges and layout entry', () => {
    const before = frozen(exampleGraph());
    const after = removeElements(before, ['charge'], []);
    expect(ids(after).nodes).not.toContain('charge');
    expect(ids(after).edges).toEqual(['e4', 'e5', 'e6', 'e7', 'e8', 'e9', 'e10', 'e11', 'e12', 'e13']);
    expect(after.layout).toEqual({});
    expect(before.nodes).toHaveLength(11);
    expect(before.layout).toHaveProperty('charge');
  });

  it('removes edges alone and keeps their nodes', () => {
    const after = removeElements(frozen(linearGraph()), [], ['e3']);
    expect(ids(after)).toEqual({ nodes: ['start', 'work', 'done', 'stop'], edges: ['e1', 'e2'] });
  });
});

describe('connect', () => {
  it('adds an edge with a fresh id and the given fields, and no automatic default', () => {
    const before = frozen(linearGraph());
    const result = connect(before, 'start', 'done', { label: 'skip' })!;
    expect(result.id).toBe('e4');
    expect(result.graph.edges.at(-1)).toEqual({ id: 'e4', source: 'start', target: 'done', label: 'skip' });
    expect(before.edges).toHaveLength(3);
    const choice = addNode(before, 'choice', { x: 0, y: 0 });
    expect(connect(choice.graph, choice.id, 'done')!.graph.edges.at(-1)).not.toHaveProperty('default');
  });

  it('refuses a self-loop, a duplicate and a missing node', () => {
    const graph = frozen(linearGraph());
    expect(connect(graph, 'work', 'work')).toBeNull();
    expect(connect(graph, 'work', 'done')).toBeNull();
    expect(connect(graph, 'work', 'ghost')).toBeNull();
  });
});

describe('updateNode and updateEdge', () => {
  it('sets fields, deletes those patched to undefined, and shares untouched nodes', () => {
    const before = frozen(exampleGraph());
    const after = updateNode(before, 'charge', { label: 'Charge', owner: undefined, priority: 9 });
    const charge = after.nodes.find((n) => n.id === 'charge')!;
    expect(charge.label).toBe('Charge');
    expect(charge).not.toHaveProperty('owner');
    expect(charge.priority).toBe(9);
    expect(before.nodes[1]!.owner).toBe('payments');
    expect(after.nodes[2]).toBe(before.nodes[2]);
  });

  it('refuses to rename and ignores unknown ids', () => {
    const graph = frozen(linearGraph());
    expect(() => updateNode(graph, 'work', { id: 'other' })).toThrow(/ids are fixed/);
    expect(updateNode(graph, 'ghost', { label: 'x' })).toBe(graph);
    expect(updateEdge(graph, 'ghost', { when: 'x' })).toBe(graph);
  });

  it('updates and clears edge fields', () => {
    const graph = frozen(exampleGraph());
    const after = updateEdge(graph, 'e4', { when: undefined, default: true });
    expect(after.edges.find((e) => e.id === 'e4')).toEqual({ id: 'e4', source: 'big', target: 'review', default: true });
    expect(graph.edges[3]!.when).toBe('input.order.amount > 1000');
  });
});

describe('moveNodes', () => {
  it('sets positions of known nodes only', () => {
    const before = frozen(linearGraph());
    const after = moveNodes(before, { work: { x: 5, y: 6 }, ghost: { x: 1, y: 1 } });
    expect(after.layout).toEqual({ work: { x: 5, y: 6 } });
    expect(before.layout).toBeUndefined();
  });
});

describe('copy and paste', () => {
  it('copies the selected nodes, the edges between them and their layout', () => {
    const source = frozen(exampleGraph());
    const fragment = copyFragment(source, ['charge', 'big', 'stop']);
    expect(ids(fragment)).toEqual({ nodes: ['charge', 'big', 'stop'], edges: ['e2', 'e3'] });
    expect(fragment.layout!.charge).toEqual({ x: 120, y: 40 });
    expect(Object.keys(fragment.layout!)).toEqual(['charge', 'big', 'stop']);
    expect(fragment.nodes[0]).not.toBe(source.nodes[1]);
  });

  it('pastes with fresh ids, remapped edges and offset positions', () => {
    const graph = frozen(exampleGraph());
    const fragment = frozen(copyFragment(graph, ['charge', 'refund', 'big', 'stop']));
    const pasted = pasteFragment(graph, fragment, { x: 40, y: 30 });
    expect(pasted.nodeIds).toEqual(['charge_1', 'refund_1', 'big_1', 'stop_1']);
    expect(pasted.edgeIds).toEqual(['e14', 'e15']);
    expect(pasted.graph.edges.slice(-2)).toEqual([
      { id: 'e14', source: 'charge_1', target: 'big_1' },
      { id: 'e15', source: 'charge_1', target: 'stop_1', on: 'failure' },
    ]);
    expect(pasted.graph.layout!.charge_1).toEqual({ x: 160, y: 70 });
    // The compensation was pasted too, so the copy compensates with the copy.
    expect(pasted.graph.nodes.find((n) => n.id === 'charge_1')!.compensate_with).toBe('refund_1');
    expect(graph.nodes).toHaveLength(11);
    const again = pasteFragment(pasted.graph, fragment, { x: 80, y: 60 });
    expect(again.nodeIds).toEqual(['charge_2', 'refund_2', 'big_2', 'stop_2']);
  });

  it('never pastes a second start', () => {
    const graph = frozen(linearGraph());
    const fragment = copyFragment(graph, ['start', 'work']);
    const pasted = pasteFragment(graph, fragment, { x: 0, y: 0 });
    expect(pasted.nodeIds).toEqual(['work_1']);
    expect(pasted.edgeIds).toEqual([]);
    expect(pasted.graph.nodes.filter((n) => n.type === 'start')).toHaveLength(1);
    const intoEmpty = pasteFragment({ format: 1, nodes: [], edges: [] }, fragment, { x: 0, y: 0 });
    expect(intoEmpty.nodeIds).toEqual(['start', 'work_1']);
    expect(intoEmpty.graph.edges).toEqual([{ id: 'e1', source: 'start', target: 'work_1' }]);
  });
});

describe('normalizeGraph', () => {
  it('returns a copy of a valid graph, from an object or from JSON text', () => {
    const raw = exampleGraph();
    const graph = normalizeGraph(raw);
    expect(graph).toEqual(raw);
    expect(graph.nodes[0]).not.toBe(raw.nodes[0]);
    expect(normalizeGraph(JSON.stringify(raw))).toEqual(raw);
  });

  it('unwraps a version from the API and fills in the format', () => {
    const { format: _, ...bare } = linearGraph();
    expect(normalizeGraph({ number: 3, graph: bare })).toEqual(linearGraph());
  });

  it('drops unknown top-level keys and unusable positions', () => {
    const graph = normalizeGraph({ ...linearGraph(), extra: 1, layout: { work: { x: 1, y: 2 }, done: { x: 'a' }, stop: null } });
    expect(graph).not.toHaveProperty('extra');
    expect(graph.layout).toEqual({ work: { x: 1, y: 2 } });
  });

  it.each([
    [null, /JSON object/],
    [[1, 2], /JSON object/],
    ['{"nodes": [', /not valid JSON/],
    [{ edges: [] }, /no "nodes" array/],
    [{ nodes: [] }, /no "edges" array/],
    [{ nodes: {}, edges: [] }, /no "nodes" array/],
    [{ format: 2, nodes: [], edges: [] }, /format 2/],
    [{ nodes: [{ id: 'a' }], edges: [] }, /nodes\[0\] must be an object with a string "id" and "type"/],
    [{ nodes: [], edges: [{ id: 'e1', source: 'a' }] }, /edges\[0\] must be an object/],
  ])('refuses %j with a readable message', (raw, message) => {
    expect(() => normalizeGraph(raw)).toThrow(message);
  });
});
