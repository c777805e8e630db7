/** Tests for the choice node's checks (graph/nodes/choice.ts), with the server's codes and ids. */

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
    'choice_without_default',
    graphOf(
      [start(), node('pick', 'choice'), end(), end('other')],
      [
        ['e1', 'start', 'pick'],
        ['e2', 'pick', 'done', 'input.a'],
        ['e3', 'pick', 'other', 'input.b'],
      ],
    ),
    ['choice_default', 'pick', null],
  ],
  [
    'choice_with_two_defaults',
    graphOf(
      [start(), node('pick', 'choice'), end(), end('other')],
      [
        ['e1', 'start', 'pick'],
        ['e2', 'pick', 'done', 'default'],
        ['e3', 'pick', 'other', 'default'],
      ],
    ),
    ['choice_default', 'pick', null],
  ],
  [
    'choice_condition',
    graphOf(
      [start(), node('pick', 'choice'), end(), end('other')],
      [
        ['e1', 'start', 'pick'],
        ['e2', 'pick', 'done', 'default'],
        ['e3', 'pick', 'other'],
      ],
    ),
    ['choice_condition', null, 'e3'],
  ],
  [
    'choice_default_with_condition',
    graphOf(
      [start(), node('pick', 'choice'), end()],
      [
        ['e1', 'start', 'pick'],
        ['e2', 'pick', 'done', 'default', 'input.a'],
      ],
    ),
    ['choice_condition', null, 'e2'],
  ],
];

describe('each choice rule reports its code with the node and edge it concerns', () => {
  it.each(ERROR_CASES)('%s', (_, graph, expected) => {
    const result = validate(graph);
    expect(errorIds(result)).toContainEqual(expected);
    for (const issue of result.errors) {
      expect(issue.message).not.toBe('');
      expect(issue.message[0]).not.toBe(' ');
    }
  });

  it('covers every choice error code the server documents', () => {
    expect(new Set(ERROR_CASES.map(([, , [code]]) => code))).toEqual(new Set(['choice_default', 'choice_condition']));
  });
});
