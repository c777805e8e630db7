/** Tests for graph diffs: the server's `diff_graphs` shape, layout ignored. */

import { describe, expect, it } from 'vitest';
import { diffGraphs, diffStatus, jsonEqual } from './diff';
import { exampleGraph, task } from './fixtures';

describe('diffGraphs', () => {
  it('lists nodes and edges added, removed and changed, and settings', () => {
    // The same change as test_diff_lists_added_removed_and_changed_nodes_and_edges.
    const old = exampleGraph();
    const now = exampleGraph();
    now.nodes = now.nodes.filter((n) => n.id !== 'wait');
    now.nodes.push(task('audit'));
    now.nodes[1]!.retry = { max_attempts: 9 };
    delete now.nodes[1]!.owner;
    now.edges = now.edges.filter((e) => e.id !== 'e9' && e.id !== 'e12');
    now.edges.push({ id: 'e20', source: 'fanout', target: 'audit' });
    now.edges[3]!.when = 'input.order.amount > 5000';
    now.max_concurrent_runs = 10;
    now.defaults!.queue = 'bulk';
    now.layout = { audit: { x: 1, y: 1 } };
    expect(diffGraphs(old, now)).toStrictEqual({
      nodes: {
        added: ['audit'],
        removed: ['wait'],
        changed: [
          {
            id: 'charge',
            fields: {
              owner: { old: 'payments', new: null },
              retry: { old: { max_attempts: 5 }, new: { max_attempts: 9 } },
            },
          },
        ],
      },
      edges: {
        added: ['e20'],
        removed: ['e9', 'e12'],
        changed: [
          { id: 'e4', fields: { when: { old: 'input.order.amount > 1000', new: 'input.order.amount > 5000' } } },
        ],
      },
      settings: {
        max_concurrent_runs: { old: 50, new: 10 },
        'defaults.queue': { old: 'default', new: 'bulk' },
      },
    });
  });

  it('is empty for identical graphs even if boxes moved', () => {
    const old = exampleGraph();
    const now = exampleGraph();
    now.layout = {};
    const empty = { added: [], removed: [], changed: [] };
    expect(diffGraphs(old, now)).toStrictEqual({ nodes: empty, edges: empty, settings: {} });
  });

  it('ignores key order and compares nested values structurally', () => {
    const old = exampleGraph();
    const now = exampleGraph();
    now.nodes[1] = Object.fromEntries(Object.entries(now.nodes[1]!).reverse()) as typeof now.nodes[number];
    now.defaults = { timeout_s: 300, retry: { ...(old.defaults!.retry as object) }, queue: 'default' };
    expect(diffGraphs(old, now).nodes.changed).toEqual([]);
    expect(diffGraphs(old, now).settings).toEqual({});
  });

  it('reports defaults added or removed as settings', () => {
    const old = exampleGraph();
    const now = exampleGraph();
    delete now.defaults;
    expect(Object.keys(diffGraphs(old, now).settings)).toEqual(['defaults.queue', 'defaults.retry', 'defaults.timeout_s']);
    expect(diffGraphs(old, now).settings['defaults.queue']).toEqual({ old: 'default', new: null });
  });

  it('keeps the first of duplicate ids and tolerates junk', () => {
    const old = exampleGraph();
    const now = exampleGraph();
    now.nodes.push({ id: 'charge', type: 'end' });
    expect(diffGraphs(old, now).nodes).toEqual({ added: [], removed: [], changed: [] });
    expect(diffGraphs(null, { nodes: 'x' })).toEqual({
      nodes: { added: [], removed: [], changed: [] },
      edges: { added: [], removed: [], changed: [] },
      settings: {},
    });
  });
});

describe('diffStatus', () => {
  it('marks each added, removed and changed id', () => {
    const old = exampleGraph();
    const now = exampleGraph();
    now.nodes = now.nodes.filter((n) => n.id !== 'wait');
    now.nodes.push(task('audit'));
    now.nodes[1]!.label = 'Charge';
    now.edges[0]!.target = 'big';
    expect(diffStatus(diffGraphs(old, now))).toEqual({
      nodes: { audit: 'added', wait: 'removed', charge: 'changed' },
      edges: { e1: 'changed' },
    });
  });
});

describe('jsonEqual', () => {
  it('compares like Python: order-free objects, ordered lists, true == 1', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual(true, 1)).toBe(true);
    expect(jsonEqual(null, {})).toBe(false);
  });
});
