/** Tests for the parallel node's checks (graph/nodes/parallel.ts), with the server's codes and ids. */

import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  end,
  errorIds,
  type ExpectedError,
  graphOf,
  node,
  start,
} from '../fixtures';
import type { ValidationResult, WorkflowGraph } from '../types';
import { validateGraph } from '../validate';

function validate(graph: unknown): ValidationResult {
  return validateGraph(graph, ACTIONS);
}

// From ERROR_CASES in tests/engine/test_graph.py.
const ERROR_CASES: [string, WorkflowGraph, ExpectedError][] = [
  [
    'parallel_edges',
    graphOf(
      [start(), node('split', 'parallel'), node('merge', 'join'), end()],
      [
        ['e1', 'start', 'split'],
        ['e2', 'split', 'merge'],
        ['e3', 'merge', 'done'],
      ],
    ),
    ['parallel_edges', 'split', null],
  ],
];

describe('each parallel rule reports its code with the node and edge it concerns', () => {
  it.each(ERROR_CASES)('%s', (_, graph, expected) => {
    const result = validate(graph);
    expect(errorIds(result)).toContainEqual(expected);
    for (const issue of result.errors) {
      expect(issue.message).not.toBe('');
      expect(issue.message[0]).not.toBe(' ');
    }
  });

  it('covers every parallel error code the server documents', () => {
    expect(new Set(ERROR_CASES.map(([, , [code]]) => code))).toEqual(new Set(['parallel_edges']));
  });
});
