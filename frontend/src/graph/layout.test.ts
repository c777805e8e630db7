/** Tests for auto-layout and node positions. */

import { describe, expect, it } from 'vitest';
import { exampleGraph, largeWorkflow, linearGraph } from './fixtures';
import { autoLayout, NODE_WIDTH, positionOf } from './layout';
import type { WorkflowGraph } from './types';

function expectEveryNodePlaced(graph: WorkflowGraph): void {
  for (const node of graph.nodes) {
    const position = graph.layout?.[node.id];
    expect(position, node.id).toBeDefined();
    expect(Number.isFinite(position!.x) && Number.isFinite(position!.y), node.id).toBe(true);
  }
}

function overlaps(graph: WorkflowGraph): number {
  const boxes = Object.values(graph.layout!);
  let count = 0;
  for (let i = 0; i < boxes.length; i += 1) {
    for (let j = i + 1; j < boxes.length; j += 1) {
      if (Math.abs(boxes[i]!.x - boxes[j]!.x) < NODE_WIDTH && Math.abs(boxes[i]!.y - boxes[j]!.y) < 56) count += 1;
    }
  }
  return count;
}

describe('autoLayout', () => {
  it('places every node, left to right along the edges, without overlaps', () => {
    const before = exampleGraph();
    const graph = autoLayout(before);
    expectEveryNodePlaced(graph);
    expect(overlaps(graph)).toBe(0);
    const { start, charge, big, done } = graph.layout!;
    expect(start!.x).toBeLessThan(charge!.x);
    expect(charge!.x).toBeLessThan(big!.x);
    expect(big!.x).toBeLessThan(done!.x);
    expect(before.layout).toEqual({ charge: { x: 120, y: 40 } });
    expect(graph.nodes).toBe(before.nodes);
  });

  it('lays out top to bottom on request', () => {
    const graph = autoLayout(linearGraph(), 'TB');
    const { start, work, done } = graph.layout!;
    expect(start!.y).toBeLessThan(work!.y);
    expect(work!.y).toBeLessThan(done!.y);
  });

  it('tolerates cycles, self-loops, dangling edges and duplicate ids', () => {
    const graph = linearGraph();
    graph.edges.push(
      { id: 'loop', source: 'done', target: 'start' },
      { id: 'self', source: 'work', target: 'work' },
      { id: 'ghost', source: 'work', target: 'nowhere' },
    );
    graph.nodes.push({ id: 'work', type: 'end' });
    const laid = autoLayout(graph);
    expect(Object.keys(laid.layout!).sort()).toEqual(['done', 'start', 'stop', 'work']);
    expectEveryNodePlaced(laid);
  });

  it('puts a compensation task under the task it undoes, not in the first column', () => {
    const laid = autoLayout(exampleGraph());
    const { charge, refund, start } = laid.layout!;
    expect(refund!.x).toBe(charge!.x);
    expect(refund!.y).toBeGreaterThan(charge!.y);
    expect(refund!.x).not.toBe(start!.x);
    expect(overlaps(laid)).toBe(0);
    // Under everything else in that column too.
    const column = Object.entries(laid.layout!).filter(([id, p]) => id !== 'refund' && Math.abs(p.x - charge!.x) < NODE_WIDTH);
    for (const [, p] of column) expect(refund!.y).toBeGreaterThan(p.y);
  });

  it('lays out a 500-node, 600-edge workflow', () => {
    const graph = largeWorkflow(500, 600);
    expect(graph.nodes).toHaveLength(500);
    expect(graph.edges).toHaveLength(600);
    const laid = autoLayout(graph);
    expectEveryNodePlaced(laid);
    expect(overlaps(laid)).toBe(0);
  });
});

describe('positionOf', () => {
  it('returns the layout position, or a grid slot by index', () => {
    const graph = exampleGraph();
    expect(positionOf(graph, 'charge')).toEqual({ x: 120, y: 40 });
    const start = positionOf(graph, 'start');
    const refund = positionOf(graph, 'refund');
    expect(start).toEqual({ x: 0, y: 0 });
    expect(refund.x).toBeGreaterThan(start.x);
    expect(positionOf(graph, 'ghost')).toEqual({ x: 0, y: 0 });
  });
});
