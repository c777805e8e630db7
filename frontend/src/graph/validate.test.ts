/** Tests for client-side validation: the server's rules, codes and ids (engine/graph/validate.py). */

import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  choiceGraph,
  end,
  errorIds as issues,
  exampleGraph,
  graphOf,
  handoff,
  largeWorkflow,
  linearGraph,
  mutate,
  node,
  start,
  task,
  type ExpectedError as Expected,
} from './fixtures';
import { emptyGraph } from './model';
import type { GraphEdge, GraphNode, ValidationResult, WorkflowGraph } from './types';
import { MAX_DURATION_S, MAX_LAYOUT_COORDINATE, validateGraph } from './validate';

function validate(graph: unknown): ValidationResult {
  return validateGraph(graph, ACTIONS);
}

const nodeOf = (graph: WorkflowGraph, id: string): GraphNode => graph.nodes.find((n) => n.id === id)!;
const edgeOf = (graph: WorkflowGraph, id: string): GraphEdge => graph.edges.find((e) => e.id === id)!;

describe('valid graphs', () => {
  it('accepts the design example with no errors and no warnings', () => {
    expect(validate(exampleGraph())).toEqual({ errors: [], warnings: [] });
  });

  it('accepts a linear graph with a failure route', () => {
    expect(validate(linearGraph())).toEqual({ errors: [], warnings: [] });
  });

  it('accepts the server tests’ choice graph', () => {
    expect(validate(choiceGraph()).errors).toEqual([]);
  });

  it('accepts a new empty graph', () => {
    expect(validate(emptyGraph())).toEqual({ errors: [], warnings: [] });
  });

  it('accepts a bounded loop through a wait', () => {
    const graph = graphOf(
      [start(), task('poll', { max_visits: 5, compensate_with: 'poll2' }), node('pause', 'wait', { seconds: 10 }), node('ready', 'choice'), end(), task('poll2')],
      [
        ['e1', 'start', 'poll'],
        ['e2', 'poll', 'pause'],
        ['e3', 'pause', 'ready'],
        ['e4', 'ready', 'poll', "steps.poll.output.state != 'ready'"],
        ['e5', 'ready', 'done', 'default'],
      ],
    );
    expect(validate(graph).errors).toEqual([]);
  });

  it('accepts a rework loop through a handoff', () => {
    const graph = graphOf(
      [start(), task('draft', { max_visits: 3 }), handoff('check'), end()],
      [
        ['e1', 'start', 'draft'],
        ['e2', 'draft', 'check'],
        ['e3', 'check', 'draft', "outcome == 'reject'"],
        ['e4', 'check', 'done', "outcome == 'approve'"],
      ],
    );
    expect(validate(graph).errors).toEqual([]);
  });

  it('accepts a 500-node workflow', () => {
    expect(validate(largeWorkflow()).errors).toEqual([]);
  });
});

// Mirrors ERROR_CASES in tests/engine/test_graph.py (CEL syntax errors excepted: the
// browser only knows that an empty expression is bad).
const ERROR_CASES: [string, WorkflowGraph, Expected][] = [
  ['schema', mutate((g) => Object.assign(g.nodes[1]!, { type: 'robot' })), ['schema', 'work', null]],
  ['schema_edge', mutate((g) => Object.assign(g.edges[0]!, { colour: 'red' })), ['schema', null, 'e1']],
  [
    'duplicate_node',
    mutate((g) => g.nodes.push({ id: 'work', type: 'end' })),
    ['duplicate_id', 'work', null],
  ],
  [
    'duplicate_edge',
    mutate((g) => g.edges.push({ id: 'e2', source: 'start', target: 'done' })),
    ['duplicate_id', null, 'e2'],
  ],
  [
    'no_start',
    mutate((g) => {
      g.nodes.shift();
      g.edges.shift();
    }),
    ['no_start', null, null],
  ],
  [
    'multiple_starts',
    mutate((g) => g.nodes.push({ id: 'again', type: 'start' })),
    ['multiple_starts', 'again', null],
  ],
  [
    'no_end',
    mutate((g) => {
      g.nodes = g.nodes.slice(0, 2);
      g.edges = g.edges.slice(0, 1);
    }),
    ['no_end', null, null],
  ],
  [
    'dangling_edge',
    mutate((g) => g.edges.push({ id: 'e9', source: 'work', target: 'ghost', on: 'failure' })),
    ['dangling_edge', null, 'e9'],
  ],
  [
    'start_incoming',
    mutate((g) => g.edges.push({ id: 'e9', source: 'stop', target: 'start' })),
    ['start_incoming', 'start', 'e9'],
  ],
  [
    'end_outgoing',
    mutate((g) => g.edges.push({ id: 'e9', source: 'stop', target: 'done' })),
    ['end_outgoing', 'stop', 'e9'],
  ],
  ['unreachable', mutate((g) => g.nodes.push({ id: 'island', type: 'end' })), ['unreachable', 'island', null]],
  [
    'dead_end',
    graphOf(
      [start(), node('pick', 'choice'), node('limbo', 'wait', { seconds: 1 }), end()],
      [
        ['e1', 'start', 'pick'],
        ['e2', 'pick', 'limbo', 'input.go'],
        ['e3', 'pick', 'done', 'default'],
      ],
    ),
    ['dead_end', 'limbo', null],
  ],
  [
    'when_not_allowed',
    mutate((g) => (g.edges[0]!.when = 'input.go')),
    ['when_not_allowed', null, 'e1'],
  ],
  [
    'default_not_allowed',
    mutate((g) => (g.edges[0]!.default = true)),
    ['default_not_allowed', null, 'e1'],
  ],
  [
    'failure_edge_source',
    mutate((g) => (g.edges[0]!.on = 'failure')),
    ['failure_edge_source', null, 'e1'],
  ],
  [
    'bad_expression_empty_when',
    graphOf(
      [start(), node('pick', 'choice'), end(), end('other')],
      [
        ['e1', 'start', 'pick'],
        ['e2', 'pick', 'done', '  '],
        ['e3', 'pick', 'other', 'default'],
      ],
    ),
    ['bad_expression', null, 'e2'],
  ],
  [
    'cycle_without_wait',
    graphOf(
      [start(), task('again', { max_visits: 3 }), node('more', 'choice'), end()],
      [
        ['e1', 'start', 'again'],
        ['e2', 'again', 'more'],
        ['e3', 'more', 'again', 'input.more'],
        ['e4', 'more', 'done', 'default'],
      ],
    ),
    ['cycle', 'again', 'e3'],
  ],
  [
    'cycle_without_max_visits',
    graphOf(
      [start(), node('pause', 'wait', { seconds: 1 }), node('more', 'choice'), end()],
      [
        ['e1', 'start', 'pause'],
        ['e2', 'pause', 'more'],
        ['e3', 'more', 'pause', 'input.more'],
        ['e4', 'more', 'done', 'default'],
      ],
    ),
    ['cycle', 'pause', 'e3'],
  ],
  [
    'cycle_without_condition',
    graphOf(
      [start(), node('pause', 'wait', { seconds: 1, max_visits: 3 }), node('more', 'choice'), end()],
      [
        ['e1', 'start', 'pause'],
        ['e2', 'pause', 'more'],
        ['e3', 'more', 'pause', 'default'],
        ['e4', 'more', 'done', 'input.done'],
      ],
    ),
    ['cycle', 'pause', 'e3'],
  ],
  [
    'cycle_self_loop',
    graphOf(
      [start(), task('spin'), end()],
      [
        ['e1', 'start', 'spin'],
        ['e2', 'spin', 'spin'],
        ['e3', 'spin', 'done'],
      ],
    ),
    ['cycle', 'spin', 'e2'],
  ],
];

describe('each rule reports its code with the node and edge it concerns', () => {
  it.each(ERROR_CASES)('%s', (_, graph, expected) => {
    const result = validate(graph);
    expect(issues(result)).toContainEqual(expected);
    for (const issue of result.errors) {
      expect(issue.message).not.toBe('');
      expect(issue.message[0]).not.toBe(' ');
    }
  });

  // Each node type's codes are covered next to it, in nodes/<type>.test.ts.
  it('covers every graph-wide error code the server documents', () => {
    const covered = new Set(ERROR_CASES.map(([, , [code]]) => code));
    expect([...covered].sort()).toEqual(
      [
        'schema',
        'duplicate_id',
        'no_start',
        'multiple_starts',
        'no_end',
        'dangling_edge',
        'start_incoming',
        'end_outgoing',
        'unreachable',
        'dead_end',
        'when_not_allowed',
        'default_not_allowed',
        'failure_edge_source',
        'bad_expression',
        'cycle',
      ].sort(),
    );
  });
});

// Mirrors INVALID_GRAPHS in tests/designer/test_versions_api.py (on choice_graph).
const API_CASES: [string, (g: WorkflowGraph) => void, { node_id?: string; edge_id?: string }][] = [
  [
    'no_start',
    (g) => {
      g.nodes = g.nodes.filter((n) => n.id !== 'start');
      g.edges = g.edges.filter((e) => e.id !== 'e1');
    },
    {},
  ],
  ['multiple_starts', (g) => g.nodes.push({ id: 'start2', type: 'start' }), { node_id: 'start2' }],
  [
    'unreachable',
    (g) => {
      g.nodes.push(task('orphan'));
      g.edges.push({ id: 'o1', source: 'orphan', target: 'done' });
    },
    { node_id: 'orphan' },
  ],
  ['dangling_edge', (g) => g.edges.push({ id: 'bad', source: 'big', target: 'nowhere' }), { edge_id: 'bad' }],
  ['choice_default', (g) => delete edgeOf(g, 'to_small').default, { node_id: 'pick' }],
  ['unknown_action', (g) => (nodeOf(g, 'big').action = 'builtin.nope'), { node_id: 'big' }],
  ['duplicate_id', (g) => g.nodes.push(task('big')), { node_id: 'big' }],
  ['dead_end', (g) => (g.edges = g.edges.filter((e) => e.id !== 'e5')), { node_id: 'big' }],
  [
    'no_end',
    (g) => {
      g.nodes = g.nodes.filter((n) => n.id !== 'done');
      g.edges = g.edges.filter((e) => e.id !== 'e5' && e.id !== 'e6');
    },
    {},
  ],
  ['choice_condition', (g) => delete edgeOf(g, 'to_big').when, { edge_id: 'to_big' }],
  ['cycle', (g) => g.edges.push({ id: 'back', source: 'after_small', target: 'small' }), {}],
  ['task_edges', (g) => g.edges.push({ id: 'extra', source: 'big', target: 'small' }), { node_id: 'big' }],
  [
    'bad_params',
    (g) => Object.assign(nodeOf(g, 'big'), { action: 'builtin.sleep', params: { seconds: 'x' } }),
    { node_id: 'big' },
  ],
  ['schema', (g) => Object.assign(nodeOf(g, 'big'), { type: 'teleport' }), {}],
  [
    'end_outgoing',
    (g) => g.edges.push({ id: 'after_end', source: 'done', target: 'big' }),
    { edge_id: 'after_end' },
  ],
];

describe('the API tests’ invalid graphs', () => {
  it.each(API_CASES)('%s', (code, change, ids) => {
    const result = validate(mutate(change, choiceGraph));
    const found = result.errors.filter((i) => i.code === code);
    expect(found.length).toBeGreaterThan(0);
    expect(found).toContainEqual(expect.objectContaining(ids));
  });
});

describe('bounds on durations and counts (as engine/graph/schema.py)', () => {
  const huge = [MAX_DURATION_S + 1, 1e12, 1e308];
  it.each(huge)('refuses a wait, an SLA and retry intervals of %d s', (value) => {
    const wait = mutate((g) => g.nodes.splice(1, 0, { id: 'nap', type: 'wait', seconds: value }));
    expect(validate(wait).errors.some((i) => i.code === 'schema' && i.message.includes('seconds'))).toBe(true);
    const retry = mutate((g) => {
      g.defaults = { retry: { initial_interval_s: value, max_interval_s: value } };
    });
    const messages = validate(retry).errors.map((i) => i.message).join(' ');
    expect(messages).toContain('initial_interval_s');
    expect(messages).toContain('max_interval_s');
    const sla = mutate((g) =>
      g.nodes.splice(1, 0, { id: 'ask', type: 'handoff', to: { group: 'ops' }, outcomes: ['ok'], sla_s: value }),
    );
    expect(validate(sla).errors.some((i) => i.message.includes('sla_s'))).toBe(true);
  });

  it('accepts a year and refuses a backoff or run count past its maximum', () => {
    const year = mutate((g) => g.nodes.splice(1, 0, { id: 'nap', type: 'wait', seconds: MAX_DURATION_S }));
    expect(validate(year).errors.filter((i) => i.message.includes('seconds'))).toEqual([]);
    const counts = mutate((g) => {
      g.defaults = { retry: { backoff: 101 } };
      g.max_concurrent_runs = 100_001;
    });
    const messages = validate(counts).errors.map((i) => i.message).join(' ');
    expect(messages).toContain('backoff');
    expect(messages).toContain('max_concurrent_runs');
  });

  it('names the node whose wait, SLA or retry is too long', () => {
    const graph = mutate((g) => {
      g.nodes.splice(1, 0, { id: 'nap', type: 'wait', seconds: 1e308 });
      g.nodes.splice(1, 0, { id: 'ask', type: 'handoff', to: { group: 'ops' }, outcomes: ['ok'], sla_s: 1e12 });
      g.nodes.find((n) => n.type === 'task')!.retry = { initial_interval_s: 1e12 };
    });
    const task = graph.nodes.find((n) => n.type === 'task')!.id;
    const named = validate(graph)
      .errors.filter((i) => i.code === 'schema')
      .map((i) => i.node_id);
    expect(named).toEqual(expect.arrayContaining(['nap', 'ask', task]));
  });

  it.each([MAX_LAYOUT_COORDINATE + 1, -1e308, 1e308])('refuses a layout coordinate of %d', (value) => {
    const graph = mutate((g) => {
      g.layout = { start: { x: value, y: 0 } };
    });
    expect(validate(graph).errors).toContainEqual(
      expect.objectContaining({ code: 'schema', node_id: 'start', message: expect.stringContaining('layout.start') }),
    );
    const edge = mutate((g) => {
      g.layout = { start: { x: MAX_LAYOUT_COORDINATE, y: -MAX_LAYOUT_COORDINATE } };
    });
    expect(validate(edge).errors.filter((i) => i.message.startsWith('layout'))).toEqual([]);
  });
});

describe('details', () => {
  it('collects every error, not just the first', () => {
    const graph = mutate((g) => {
      g.nodes[1]!.action = 'builtin.teleport';
      g.nodes.push({ id: 'island', type: 'end' });
      g.edges.push({ id: 'e9', source: 'work', target: 'ghost' });
    });
    const codes = new Set(validate(graph).errors.map((i) => i.code));
    expect(codes).toEqual(expect.objectContaining({}));
    for (const code of ['unknown_action', 'unreachable', 'dangling_edge']) expect(codes.has(code)).toBe(true);
  });

  it('leaves out node_id and edge_id when an issue has none, as the server does', () => {
    const result = validate(mutate((g) => g.nodes.shift()));
    expect(result.errors.find((i) => i.code === 'no_start')).toEqual({
      code: 'no_start',
      message: 'the graph has no start node',
    });
  });

  it('names the loop and what it lacks in a cycle message', () => {
    const graph = ERROR_CASES.find(([name]) => name === 'cycle_without_wait')![1];
    const cycle = validate(graph).errors.filter((i) => i.code === 'cycle');
    expect(cycle).toHaveLength(1);
    expect(cycle[0]!.message).toContain('again → more → again');
    expect(cycle[0]!.message).toContain('wait, receive or handoff');
    expect(cycle[0]!.message).not.toContain('max_visits');
  });

  it('lists everything a loop lacks in one issue per back edge', () => {
    const graph = ERROR_CASES.find(([name]) => name === 'cycle_self_loop')![1];
    const cycle = validate(graph).errors.filter((i) => i.code === 'cycle');
    expect(cycle).toHaveLength(1);
    expect(cycle[0]!.message).toBe(
      'loop spin → spin is not allowed: a loop needs a wait, receive or handoff node; ' +
        'an edge with a `when` condition to leave it; a node with max_visits to bound it',
    );
  });

  it('reports shape problems the editor can cause, on the node', () => {
    const graph = mutate((g) => {
      Object.assign(g.nodes[1]!, { retry: { max_attempts: 0 }, status: 'failed' });
      g.nodes.push(node('ask', 'handoff', { to: { group: '' }, outcomes: [] }));
    });
    const schema = validate(graph).errors.filter((i) => i.code === 'schema');
    expect(schema.map((i) => [i.node_id, i.message])).toEqual([
      ['work', "nodes[1]: field 'status' is not allowed on a task node"],
      ['work', 'nodes[1].retry.max_attempts: must be an integer from 1 to 100'],
      ['ask', 'nodes[4].to: must be {"group": name}, {"user": name} or {"agent": name}'],
      ['ask', 'nodes[4].outcomes: must be a list of 1 to 50 different, non-empty names'],
    ]);
  });

  it('reports a graph of the wrong shape as a schema error', () => {
    for (const graph of [null, [], 'graph', 3, {}, { format: 2, nodes: [], edges: [] }]) {
      const result = validate(graph);
      expect(result.errors.length).toBeGreaterThan(0);
      expect(result.errors.some((i) => i.code === 'schema')).toBe(true);
    }
  });

  it('never throws on malformed nodes and edges', () => {
    const graph = { format: 1, nodes: [null, 3, { id: 7 }, { id: 'a', type: 'task', outcomes: 'x' }], edges: [[], { id: 'e' }] };
    expect(() => validate(graph)).not.toThrow();
  });
});

describe('warnings', () => {
  it('warns about a task without failure handling and a handoff without an SLA', () => {
    const graph = graphOf(
      [start(), task('work'), handoff('ask'), end()],
      [
        ['e1', 'start', 'work'],
        ['e2', 'work', 'ask'],
        ['e3', 'ask', 'done', 'default'],
      ],
    );
    delete graph.nodes[2]!.sla_s;
    const result = validate(graph);
    expect(result.errors).toEqual([]);
    expect(result.warnings.map((w) => [w.code, w.node_id])).toEqual([
      ['no_failure_handling', 'work'],
      ['handoff_no_sla', 'ask'],
    ]);
    expect(result.warnings[0]).toEqual({
      code: 'no_failure_handling',
      message: "task 'work' has no on: failure edge and no compensate_with; if it fails, the run fails",
      node_id: 'work',
    });
  });
});
