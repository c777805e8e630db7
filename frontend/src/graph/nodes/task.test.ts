/** Tests for the task node's checks (graph/nodes/task.ts), with the server's codes and ids. */

import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  end,
  errorIds,
  type ExpectedError,
  graphOf,
  mutate,
  start,
  task,
} from '../fixtures';
import type { ValidationResult, WorkflowGraph } from '../types';
import { validateGraph } from '../validate';

function validate(graph: unknown): ValidationResult {
  return validateGraph(graph, ACTIONS);
}

// From ERROR_CASES in tests/engine/test_graph.py.
const ERROR_CASES: [string, WorkflowGraph, ExpectedError][] = [
  [
    'task_edges_two_normal',
    mutate((g) => g.edges.push({ id: 'e9', source: 'work', target: 'stop' })),
    ['task_edges', 'work', null],
  ],
  [
    'task_edges_two_failure',
    mutate((g) => g.edges.push({ id: 'e9', source: 'work', target: 'done', on: 'failure' })),
    ['task_edges', 'work', null],
  ],
  ['task_edges_none', mutate((g) => g.edges.splice(1, 1)), ['task_edges', 'work', null]],
  [
    'bad_expression_empty_param',
    mutate((g) => Object.assign(g.nodes[1]!, { action: 'builtin.echo', params: { x: ['='] } })),
    ['bad_expression', 'work', null],
  ],
  [
    'unknown_action',
    mutate((g) => (g.nodes[1]!.action = 'builtin.teleport')),
    ['unknown_action', 'work', null],
  ],
  [
    'bad_params',
    mutate((g) => Object.assign(g.nodes[1]!, { action: 'builtin.http', params: { method: 'POST' } })),
    ['bad_params', 'work', null],
  ],
  [
    'bad_compensation_missing',
    mutate((g) => (g.nodes[1]!.compensate_with = 'ghost')),
    ['bad_compensation', 'work', null],
  ],
  [
    'bad_compensation_self',
    mutate((g) => (g.nodes[1]!.compensate_with = 'work')),
    ['bad_compensation', 'work', null],
  ],
  [
    'bad_compensation_not_a_task',
    mutate((g) => (g.nodes[1]!.compensate_with = 'done')),
    ['bad_compensation', 'work', null],
  ],
];

describe('each task rule reports its code with the node and edge it concerns', () => {
  it.each(ERROR_CASES)('%s', (_, graph, expected) => {
    const result = validate(graph);
    expect(errorIds(result)).toContainEqual(expected);
    for (const issue of result.errors) {
      expect(issue.message).not.toBe('');
      expect(issue.message[0]).not.toBe(' ');
    }
  });

  it('covers every task error code the server documents', () => {
    expect(new Set(ERROR_CASES.map(([, , [code]]) => code))).toEqual(new Set(['task_edges', 'bad_expression', 'unknown_action', 'bad_params', 'bad_compensation']));
  });
});

describe('actions and params', () => {
  it('does not check params that are expressions against the action schema', () => {
    const graph = mutate((g) => {
      g.nodes[1] = task('work', {
        action: 'builtin.http',
        params: { method: '=input.method', url: '=input.url', headers: '=input.headers', timeout_s: '=input.t' },
      });
    });
    expect(validate(graph).errors).toEqual([]);
  });

  it('skips unknown_action and bad_params when the actions are not loaded', () => {
    const graph = mutate((g) => Object.assign(g.nodes[1]!, { action: 'custom.later', params: {} }));
    expect(validateGraph(graph, null).errors).toEqual([]);
    expect(errorIds(validate(graph))).toEqual([['unknown_action', 'work', null]]);
  });

  it('checks escaped params as their literal value', () => {
    const graph = mutate((g) => {
      g.nodes[1] = task('work', { action: 'builtin.http', params: { method: '==POST', url: 'https://x.example' } });
    });
    expect(errorIds(validate(graph))).toEqual([['bad_params', 'work', null]]);
    expect(validate(graph).errors[0]!.message).toContain('params.method');
  });

  it('reports wrong param types and missing required params', () => {
    const graph = mutate((g) => Object.assign(g.nodes[1]!, { action: 'builtin.sleep', params: { seconds: 'x' } }));
    expect(validate(graph).errors.map((i) => i.message)).toEqual([
      "task 'work': params.seconds: \"x\" is not of type 'number'",
    ]);
    delete graph.nodes[1]!.params;
    expect(validate(graph).errors.map((i) => i.message)).toEqual([
      "task 'work': params: 'seconds' is a required property",
    ]);
  });
});

describe('compensation', () => {
  it('lets a compensation task go unwired', () => {
    const graph = mutate((g) => {
      g.nodes[1]!.compensate_with = 'undo';
      g.nodes.push(task('undo'));
    });
    expect(validate(graph)).toEqual({ errors: [], warnings: [] });
  });

  it('does not warn about a task with compensation', () => {
    const graph = graphOf(
      [start(), task('work', { compensate_with: 'undo' }), task('undo'), end()],
      [
        ['e1', 'start', 'work'],
        ['e2', 'work', 'done'],
      ],
    );
    expect(validate(graph)).toEqual({ errors: [], warnings: [] });
  });
});

// The same graphs as tests/engine/test_saga_lint.py.
describe('no_failure_handling in a saga', () => {
  const saga = (compensated: string | null) =>
    graphOf(
      [
        start(),
        task('hold', compensated === 'hold' ? { compensate_with: 'release' } : {}),
        task('charge', compensated === 'charge' ? { compensate_with: 'release' } : {}),
        task('ship'),
        end(),
        ...(compensated ? [task('release')] : []),
      ],
      [
        ['e1', 'start', 'hold'],
        ['e2', 'hold', 'charge'],
        ['e3', 'charge', 'ship'],
        ['e4', 'ship', 'done'],
      ],
    );
  const warned = (graph: WorkflowGraph) => {
    const result = validate(graph);
    expect(result.errors).toEqual([]);
    return result.warnings.map((w) => [w.code, w.node_id]);
  };

  it('spares the steps after a compensated task: failing there undoes it', () => {
    expect(warned(saga('hold'))).toEqual([]);
  });

  it('warns about every unrouted task when nothing compensates', () => {
    expect(warned(saga(null))).toEqual([
      ['no_failure_handling', 'hold'],
      ['no_failure_handling', 'charge'],
      ['no_failure_handling', 'ship'],
    ]);
  });

  it('still warns about a task before the compensated one', () => {
    expect(warned(saga('charge'))).toEqual([['no_failure_handling', 'hold']]);
  });
});
