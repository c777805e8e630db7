/** Graphs shared by the graph tests: the same ones the server's tests use. */

import type { ActionInfo, GraphEdge, GraphNode, ValidationResult, WorkflowGraph } from './types';

function info(name: string, params_schema: Record<string, unknown>): ActionInfo {
  return { name, description: '', params_schema, side_effects: false };
}

// As in tests/engine/test_graph.py, plus builtin.sleep from engine/builtins.py.
export const ACTIONS: Record<string, ActionInfo> = {
  'builtin.noop': info('builtin.noop', { type: 'object', properties: {} }),
  'builtin.echo': info('builtin.echo', { type: 'object' }),
  'builtin.sleep': info('builtin.sleep', {
    type: 'object',
    properties: { seconds: { type: 'number', minimum: 0, maximum: 3600 } },
    required: ['seconds'],
  }),
  'builtin.http': info('builtin.http', {
    type: 'object',
    properties: {
      method: { type: 'string', enum: ['GET', 'POST', 'PUT', 'DELETE'] },
      url: { type: 'string', pattern: '^https?://' },
      headers: { type: 'object', additionalProperties: { type: 'string' } },
      json: {},
      timeout_s: { type: 'number', exclusiveMinimum: 0 },
    },
    required: ['method', 'url'],
  }),
};

/** Return the DESIGN.md example, wired so that every node is on a path. */
export function exampleGraph(): WorkflowGraph {
  return {
    format: 1,
    defaults: {
      queue: 'default',
      retry: { max_attempts: 3, initial_interval_s: 1, backoff: 2.0, max_interval_s: 60, jitter: 'full', non_retryable: [] },
      timeout_s: 300,
    },
    max_concurrent_runs: 50,
    nodes: [
      { id: 'start', type: 'start' },
      {
        id: 'charge',
        type: 'task',
        label: 'Charge card',
        owner: 'payments',
        action: 'builtin.http',
        params: {
          method: 'POST',
          url: 'https://payments.example/charges',
          json: '=input.order',
          headers: { 'X-Run': '=string(run.id)', 'X-Note': '==raw' },
        },
        retry: { max_attempts: 5 },
        queue: 'payments',
        priority: 7,
        timeout_s: 30,
        compensate_with: 'refund',
      },
      {
        id: 'refund',
        type: 'task',
        action: 'builtin.http',
        params: { method: 'POST', url: 'https://payments.example/refunds', json: '=steps.charge.output' },
      },
      { id: 'big', type: 'choice' },
      {
        id: 'review',
        type: 'handoff',
        to: { group: 'risk' },
        outcomes: ['approve', 'reject'],
        sla_s: 3600,
        context: ['input.order', 'steps.charge.output'],
      },
      { id: 'fanout', type: 'parallel' },
      { id: 'notify', type: 'task', action: 'builtin.noop' },
      { id: 'wait', type: 'wait', seconds: 30 },
      { id: 'join', type: 'join', mode: 'all' },
      { id: 'done', type: 'end' },
      { id: 'stop', type: 'end', status: 'failed' },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'charge' },
      { id: 'e2', source: 'charge', target: 'big' },
      { id: 'e3', source: 'charge', target: 'stop', on: 'failure' },
      { id: 'e4', source: 'big', target: 'review', when: 'input.order.amount > 1000' },
      { id: 'e5', source: 'big', target: 'fanout', default: true },
      { id: 'e6', source: 'review', target: 'fanout', when: "outcome == 'approve'" },
      { id: 'e7', source: 'review', target: 'stop', default: true },
      { id: 'e8', source: 'fanout', target: 'notify' },
      { id: 'e9', source: 'fanout', target: 'wait' },
      { id: 'e10', source: 'notify', target: 'join' },
      { id: 'e11', source: 'notify', target: 'stop', on: 'failure' },
      { id: 'e12', source: 'wait', target: 'join' },
      { id: 'e13', source: 'join', target: 'done' },
    ],
    layout: { charge: { x: 120, y: 40 } },
  };
}

/** Return start → work (a task) → done, with a failure route to stop. */
export function linearGraph(): WorkflowGraph {
  return {
    format: 1,
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'work', type: 'task', action: 'builtin.noop' },
      { id: 'done', type: 'end' },
      { id: 'stop', type: 'end', status: 'failed' },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'work' },
      { id: 'e2', source: 'work', target: 'done' },
      { id: 'e3', source: 'work', target: 'stop', on: 'failure' },
    ],
  };
}

/** Return the graph of tests/support.py `choice_graph`: big amounts to `big`, others to `small`. */
export function choiceGraph(): WorkflowGraph {
  return {
    format: 1,
    defaults: { retry: { max_attempts: 1 } },
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'pick', type: 'choice' },
      { id: 'big', type: 'task', action: 'builtin.echo' },
      { id: 'small', type: 'task', action: 'builtin.echo' },
      { id: 'after_small', type: 'task', action: 'builtin.noop' },
      { id: 'done', type: 'end' },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'pick' },
      { id: 'to_big', source: 'pick', target: 'big', when: 'input.amount > 1000' },
      { id: 'to_small', source: 'pick', target: 'small', default: true },
      { id: 'e4', source: 'small', target: 'after_small' },
      { id: 'e5', source: 'big', target: 'done' },
      { id: 'e6', source: 'after_small', target: 'done' },
    ],
  };
}

/** Build a graph from nodes and [id, source, target, ...flags]; a flag is "default", "failure" or a `when`. */
export function graphOf(nodes: GraphNode[], edges: string[][]): WorkflowGraph {
  return {
    format: 1,
    nodes,
    edges: edges.map(([id, source, target, ...flags]) => {
      const edge: GraphEdge = { id: id!, source: source!, target: target! };
      for (const flag of flags) {
        if (flag === 'default') edge.default = true;
        else if (flag === 'failure') edge.on = 'failure';
        else edge.when = flag;
      }
      return edge;
    }),
  };
}

export const start = (): GraphNode => ({ id: 'start', type: 'start' });
export const end = (id = 'done'): GraphNode => ({ id, type: 'end' });
export const task = (id: string, fields: Record<string, unknown> = {}): GraphNode => ({
  id,
  type: 'task',
  action: 'builtin.noop',
  ...fields,
});
export const node = (id: string, type: GraphNode['type'], fields: Record<string, unknown> = {}): GraphNode => ({
  id,
  type,
  ...fields,
});
export const handoff = (id: string, fields: Record<string, unknown> = {}): GraphNode => ({
  id,
  type: 'handoff',
  to: { group: 'ops' },
  outcomes: ['approve', 'reject'],
  sla_s: 60,
  ...fields,
});

/** Return `base()` after `change` (a linear graph by default): one invalid graph for a test. */
export function mutate(change: (graph: WorkflowGraph) => void, base = linearGraph): WorkflowGraph {
  const graph = base();
  change(graph);
  return graph;
}

/** An error expected from validation: its code and the ids it is pinned on (null for none). */
export type ExpectedError = [code: string, nodeId: string | null, edgeId: string | null];

/** Return each error of a validation as an `ExpectedError`. */
export function errorIds(result: ValidationResult): ExpectedError[] {
  return result.errors.map((i) => [i.code, i.node_id ?? null, i.edge_id ?? null]);
}

/** Return a workflow-shaped graph of about `size` nodes and `edgeCount` edges (seeded, repeatable). */
export function largeWorkflow(size = 500, edgeCount = 600): WorkflowGraph {
  let seed = 7;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const nodes: GraphNode[] = [start()];
  const edges: GraphEdge[] = [];
  let count = 0;
  const add = (type: GraphNode['type']): string => {
    const id = `${type}_${++count}`;
    nodes.push(type === 'task' ? task(id) : node(id, type));
    return id;
  };
  const link = (source: string, target: string, extra: Partial<GraphEdge> = {}) =>
    edges.push({ id: `e${edges.length + 1}`, source, target, ...extra });
  let previous = 'start';
  while (nodes.length < size - 40) {
    const roll = random();
    if (roll < 0.5) {
      const next = add('task');
      link(previous, next);
      previous = next;
    } else if (roll < 0.75) {
      const choice = add('choice');
      link(previous, choice);
      const merge = add('task');
      const branches = 2 + Math.floor(random() * 2);
      for (let b = 0; b < branches; b += 1) {
        let from = choice;
        const length = 1 + Math.floor(random() * 3);
        for (let i = 0; i < length; i += 1) {
          const next = add('task');
          link(from, next, from === choice ? (b === 0 ? { default: true } : { when: `input.branch == ${b}` }) : {});
          from = next;
        }
        link(from, merge);
      }
      previous = merge;
    } else {
      const fork = add('parallel');
      link(previous, fork);
      const join = add('join');
      for (let b = 0; b < 2; b += 1) {
        let from = fork;
        for (let i = 0; i < 2; i += 1) {
          const next = add('task');
          link(from, next);
          from = next;
        }
        link(from, join);
      }
      previous = join;
    }
  }
  // Pad with a run of tasks so that, with the end and ten stops, there are exactly `size`.
  while (nodes.length < size - 11) {
    const next = add('task');
    link(previous, next);
    previous = next;
  }
  link(previous, add('end'));
  const stops = Array.from({ length: 10 }, () => add('end'));
  const tasks = nodes.filter((n) => n.type === 'task');
  const failing = new Set<number>();
  // Failure routes go to the stop for their tenth of the graph; each stop gets one first.
  const fail = (index: number) => {
    failing.add(index);
    link(tasks[index]!.id, stops[Math.min(9, Math.floor((index / tasks.length) * 10))]!, { on: 'failure' });
  };
  for (let k = 0; k < 10; k += 1) fail(Math.floor(((k + 0.5) * tasks.length) / 10));
  while (edges.length < edgeCount && failing.size < tasks.length) {
    const index = Math.floor(random() * tasks.length);
    if (!failing.has(index)) fail(index);
  }
  return { format: 1, nodes, edges };
}
