/** Tests for the handoff node's checks (graph/nodes/handoff.ts), with the server's codes and ids. */

import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  end,
  errorIds,
  type ExpectedError,
  graphOf,
  handoff,
  mutate,
  start,
} from '../fixtures';
import type { ValidationResult, WorkflowGraph } from '../types';
import { validateGraph } from '../validate';
import { outcomeLiterals } from './handoff';

function validate(graph: unknown): ValidationResult {
  return validateGraph(graph, ACTIONS);
}

// From ERROR_CASES in tests/engine/test_graph.py.
const ERROR_CASES: [string, WorkflowGraph, ExpectedError][] = [
  [
    'outcome_unknown',
    graphOf(
      [start(), handoff('ask'), end()],
      [
        ['e1', 'start', 'ask'],
        ['e2', 'ask', 'done', "outcome == 'maybe'"],
        ['e3', 'ask', 'done', 'default'],
      ],
    ),
    ['outcome_unknown', null, 'e2'],
  ],
  [
    'outcome_unknown_in_list',
    graphOf(
      [start(), handoff('ask'), end()],
      [
        ['e1', 'start', 'ask'],
        ['e2', 'ask', 'done', 'outcome in [\'approve\', "later"]'],
        ['e3', 'ask', 'done', 'default'],
      ],
    ),
    ['outcome_unknown', null, 'e2'],
  ],
  [
    'handoff_default_missing',
    graphOf(
      [start(), handoff('ask'), end()],
      [
        ['e1', 'start', 'ask'],
        ['e2', 'ask', 'done'],
      ],
    ),
    ['handoff_default', 'ask', null],
  ],
  [
    'handoff_two_defaults',
    graphOf(
      [start(), handoff('ask'), end(), end('other')],
      [
        ['e1', 'start', 'ask'],
        ['e2', 'ask', 'done', 'default'],
        ['e3', 'ask', 'other', 'default'],
      ],
    ),
    ['handoff_default', 'ask', null],
  ],
];

describe('each handoff rule reports its code with the node and edge it concerns', () => {
  it.each(ERROR_CASES)('%s', (_, graph, expected) => {
    const result = validate(graph);
    expect(errorIds(result)).toContainEqual(expected);
    for (const issue of result.errors) {
      expect(issue.message).not.toBe('');
      expect(issue.message[0]).not.toBe(' ');
    }
  });

  it('covers every handoff error code the server documents', () => {
    expect(new Set(ERROR_CASES.map(([, , [code]]) => code))).toEqual(new Set(['outcome_unknown', 'handoff_default']));
  });
});

describe('assignees', () => {
  it('names users by username only, as the server does', () => {
    const byId = mutate((g) => g.nodes.splice(1, 0, { id: 'ask', type: 'handoff', to: { user: 7 }, outcomes: ['ok'] }));
    expect(validate(byId).errors.some((i) => i.message.includes('.to: must be'))).toBe(true);
  });
});

describe('outcomes', () => {
  it('finds the outcomes an expression compares with', () => {
    expect(outcomeLiterals("outcome == 'approve' || \"reject\" != outcome")).toEqual(['approve', 'reject']);
    expect(outcomeLiterals("outcome in ['a', \"b\"]")).toEqual(['a', 'b']);
    expect(outcomeLiterals("steps.outcome == 'x' || my_outcome == 'y'")).toEqual([]);
  });
});
