/** Tests for the graph → React Flow conversion: labels, classes, reuse of unchanged elements. */

import { describe, expect, it } from 'vitest';
import { emptyGraph, updateNode, type WorkflowGraph } from '../graph';
import { compensationEdges, edgeLabel, flowEdges, flowNodes, type EdgeCacheEntry, type FlowNode, type NodeView, type EdgeView } from './flow';

const graph: WorkflowGraph = {
  format: 1,
  nodes: [
    { id: 'start', type: 'start' },
    { id: 'pick', type: 'choice', label: 'Big?' },
    { id: 'done', type: 'end' },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'pick' },
    { id: 'e2', source: 'pick', target: 'done', when: 'input.amount > 1000' },
    { id: 'e3', source: 'pick', target: 'done', default: true },
  ],
  layout: { start: { x: 0, y: 0 }, pick: { x: 240, y: 0 } },
};

const nodeView = (over: Partial<NodeView> = {}): NodeView => ({
  selected: new Set(),
  marks: new Map(),
  diff: null,
  moving: new Map(),
  measured: new Map(),
  testIdPrefix: '',
  ...over,
});

const edgeView = (over: Partial<EdgeView> = {}): EdgeView => ({
  selected: new Set(),
  marks: new Map(),
  diff: null,
  coverage: null,
  testIdPrefix: '',
  ...over,
});

describe('flowNodes', () => {
  it('places nodes from the layout and carries their issues', () => {
    const cache = new Map<string, FlowNode>();
    const nodes = flowNodes(graph, nodeView({ marks: new Map([['pick', { errors: 1, warnings: 0, title: 'no default' }]]) }), cache);
    expect(nodes.map((n) => [n.id, n.type, n.position])).toEqual([
      ['start', 'start', { x: 0, y: 0 }],
      ['pick', 'choice', { x: 240, y: 0 }],
      ['done', 'end', expect.any(Object)],
    ]);
    expect(nodes[1]?.data).toMatchObject({ errors: 1, issueTitle: 'no default', testId: 'node-pick' });
  });

  it('marks the nodes on a test case path', () => {
    const cache = new Map<string, FlowNode>();
    const first = flowNodes(graph, nodeView(), cache);
    const drawn = flowNodes(graph, nodeView({ path: new Set(['start', 'pick']) }), cache);
    expect(drawn.map((n) => n.data.onPath)).toEqual([true, true, false]);
    expect(drawn[2]).toBe(first[2]);
    expect(drawn[0]).not.toBe(first[0]);
  });

  it('reuses the objects of nodes that did not change', () => {
    const cache = new Map<string, FlowNode>();
    const first = flowNodes(graph, nodeView(), cache);
    const edited = updateNode(graph, 'pick', { label: 'Large?' });
    const second = flowNodes(edited, nodeView({ selected: new Set(['start']) }), cache);
    expect(second[2]).toBe(first[2]);
    expect(second[0]).not.toBe(first[0]); // selected now
    expect(second[1]).not.toBe(first[1]); // label changed
    expect(second[1]?.data.node.label).toBe('Large?');
  });

  it('shows a dragged node where it is being dragged and forgets removed nodes', () => {
    const cache = new Map<string, FlowNode>();
    const nodes = flowNodes(graph, nodeView({ moving: new Map([['pick', { x: 5, y: 6 }]]) }), cache);
    expect(nodes[1]?.position).toEqual({ x: 5, y: 6 });
    flowNodes(emptyGraph(), nodeView(), cache);
    expect([...cache.keys()].sort()).toEqual(['done', 'start']);
  });
});

describe('flowEdges', () => {
  it('labels conditions, defaults and failure routes', () => {
    expect(edgeLabel({ id: 'a', source: 'x', target: 'y', when: 'input.a > 1' })).toBe('input.a > 1');
    expect(edgeLabel({ id: 'a', source: 'x', target: 'y', default: true })).toBe('default');
    expect(edgeLabel({ id: 'a', source: 'x', target: 'y', on: 'failure' })).toBe('on failure');
    expect(edgeLabel({ id: 'a', source: 'x', target: 'y' })).toBe('');
  });

  it('marks errors, coverage and diff states for styling and tests', () => {
    const cache = new Map<string, EdgeCacheEntry>();
    const edges = flowEdges(
      graph,
      edgeView({
        marks: new Map([['e2', { errors: 1, warnings: 0, title: 'bad' }]]),
        coverage: new Map([['e1', 3]]),
      }),
      cache,
    );
    expect(edges[0]?.className).toContain('wf-edge-taken');
    expect(edges[0]?.label).toBe('3×');
    expect(edges[1]?.className).toContain('wf-edge-error');
    expect(edges[1]?.domAttributes).toMatchObject({ 'data-testid': 'edge-e2', 'data-issues': 'error' });
    expect(edges[2]?.className).toContain('wf-edge-untaken');
  });

  it('draws a test case path and marks the edges no case takes', () => {
    const cache = new Map<string, EdgeCacheEntry>();
    const edges = flowEdges(graph, edgeView({ path: new Set(['e1', 'e2']), uncovered: new Set(['e3']) }), cache);
    expect(edges[0]?.className).toContain('wf-edge-path');
    expect(edges[0]?.domAttributes).toMatchObject({ 'data-on-path': 'true' });
    expect(edges[2]?.className).toContain('wf-edge-uncovered');
    expect(edges[2]?.domAttributes).toMatchObject({ 'data-testid': 'edge-e3', 'data-uncovered': 'true' });
    expect(edges[2]?.label).toBe('default · untested');
    // Clearing the report rebuilds the edges it marked.
    const cleared = flowEdges(graph, edgeView(), cache);
    expect(cleared[2]).not.toBe(edges[2]);
    expect(cleared[2]?.domAttributes).not.toHaveProperty('data-uncovered');
  });

  it('reuses unchanged edges', () => {
    const cache = new Map<string, EdgeCacheEntry>();
    const first = flowEdges(graph, edgeView(), cache);
    const second = flowEdges(graph, edgeView({ selected: new Set(['e3']) }), cache);
    expect(second[0]).toBe(first[0]);
    expect(second[2]).not.toBe(first[2]);
  });
});

describe('compensationEdges', () => {
  const saga: WorkflowGraph = {
    format: 1,
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'hold', type: 'task', action: 'builtin.noop', compensate_with: 'release' },
      { id: 'charge', type: 'task', action: 'builtin.noop', compensate_with: 'nowhere' },
      { id: 'done', type: 'end' },
      { id: 'release', type: 'task', action: 'builtin.noop' },
    ],
    edges: [],
  };

  it('draws a dashed, unselectable link from each task to the task that undoes it', () => {
    const cache = new Map();
    const [link, ...rest] = compensationEdges(saga, '', cache);
    expect(rest).toEqual([]); // 'nowhere' is no node: nothing to draw
    expect(link).toMatchObject({
      id: 'compensation:hold',
      source: 'hold',
      target: 'release',
      sourceHandle: 'compensation',
      targetHandle: 'compensation',
      className: 'wf-edge wf-edge-compensation',
      selectable: false,
      deletable: false,
    });
    expect(link!.domAttributes).toMatchObject({ 'data-testid': 'compensation-hold' });
    expect(compensationEdges(saga, '', cache)[0]).toBe(link);
    expect(compensationEdges(saga, 'run-', new Map())[0]!.domAttributes).toMatchObject({ 'data-testid': 'run-compensation-hold' });
  });

  it('follows the graph: a cleared compensation is no longer drawn', () => {
    const cache = new Map();
    compensationEdges(saga, '', cache);
    const cleared = updateNode(saga, 'hold', { compensate_with: undefined });
    expect(compensationEdges(cleared, '', cache)).toEqual([]);
    expect(cache.size).toBe(0);
  });
});

describe('edge label classes', () => {
  it('tell the label layer what kind of edge it labels', () => {
    const edges = flowEdges(graph, edgeView({ marks: new Map([['e2', { errors: 1, warnings: 0, title: '' }]]) }), new Map());
    expect(edges.map((e) => e.data?.labelClass)).toEqual([[], ['is-error'], ['is-default']]);
    expect(edges[1]!.data?.fullLabel).toBe('input.amount > 1000');
  });
});
