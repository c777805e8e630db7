/** Tests for the test-case form, its parsing, and what the canvas draws of a report. */

import { describe, expect, it } from 'vitest';
import type { TestResult } from '../api/changeSafety';
import type { WorkflowGraph } from '../graph';
import {
  caseOf,
  caseTemplate,
  coverageSummary,
  EMPTY_FORM,
  endNodes,
  formOf,
  mockProblem,
  parseObject,
  parsePath,
  pathOf,
  reportSummary,
  resultKey,
  runNotes,
  testTarget,
} from './testCases';

const graph: WorkflowGraph = {
  format: 1,
  nodes: [
    { id: 'start', type: 'start' },
    { id: 'charge', type: 'task', action: 'builtin.ledger' },
    { id: 'review', type: 'handoff', outcomes: ['approve', 'reject'] },
    { id: 'done', type: 'end', label: 'Done' },
    { id: 'declined', type: 'end', status: 'failed' },
  ],
  edges: [],
};

const result = (over: Partial<TestResult> = {}): TestResult => ({
  id: 1,
  name: 'small',
  passed: true,
  failures: [],
  run: { state: 'succeeded', end: 'done', path: ['start', 'charge', 'done'], edges: ['e1', 'e2'], steps: [], error: null, unmocked: [], problems: [] },
  ...over,
});

describe('parsePath', () => {
  it('reads arrows, commas, spaces and JSON lists', () => {
    expect(parsePath('start → charge → done')).toEqual(['start', 'charge', 'done']);
    expect(parsePath('start, charge,done')).toEqual(['start', 'charge', 'done']);
    expect(parsePath('start -> big-order -> done')).toEqual(['start', 'big-order', 'done']);
    expect(parsePath('["start", "done"]')).toEqual(['start', 'done']);
    expect(parsePath('   ')).toEqual([]);
  });
});

describe('parseObject', () => {
  it('takes an empty text as {} and refuses what is not an object', () => {
    expect(parseObject('', 'Input')).toEqual({ ok: true, value: {} });
    expect(parseObject('{"amount": 5}', 'Input')).toEqual({ ok: true, value: { amount: 5 } });
    expect(parseObject('[1]', 'Input')).toEqual({ ok: false, error: 'Input must be a JSON object, {…}' });
    const bad = parseObject('{amount: 5}', 'Input');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/^Input is not valid JSON: /);
  });
});

describe('mockProblem', () => {
  it('wants an output or a named error, not both', () => {
    expect(mockProblem('charge', { output: { key: 'k' } })).toBeNull();
    expect(mockProblem('charge', { error: 'HttpError', message: '503', retryable: true })).toBeNull();
    expect(mockProblem('charge', { output: 1, error: 'X' })).toMatch(/exactly one/);
    expect(mockProblem('charge', {})).toMatch(/exactly one/);
    expect(mockProblem('charge', 'ok')).toMatch(/must be/);
    expect(mockProblem('charge', { error: '' })).toMatch(/error's name/);
    expect(mockProblem('charge', { error: 'X', retryable: 'yes' })).toMatch(/retryable/);
  });
});

describe('caseOf', () => {
  it('builds the case the API takes, with only the expectations given', () => {
    const parsed = caseOf({
      ...EMPTY_FORM,
      name: '  big order ',
      input: '{"amount": 5000}',
      mocks: '{"charge": {"output": {"key": "k"}}}',
      outcomes: '{"review": "approve"}',
      end: 'done',
      path: 'start → charge → review → done',
    });
    expect(parsed).toEqual({
      ok: true,
      notes: [],
      value: {
        name: 'big order',
        description: '',
        input: { amount: 5000 },
        mocks: { charge: { output: { key: 'k' } } },
        outcomes: { review: 'approve' },
        expect: { end: 'done', path: ['start', 'charge', 'review', 'done'] },
      },
    });
  });

  it('names each field that is wrong', () => {
    const parsed = caseOf({ ...EMPTY_FORM, input: '{', mocks: '{"charge": {}}', outcomes: '{"review": 1}' });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(Object.keys(parsed.errors).sort()).toEqual(['input', 'mocks', 'name', 'outcomes']);
    expect(parsed.errors.outcomes).toMatch(/review must be a string/);
  });

  it('notes mocks and path nodes the open version does not have', () => {
    const parsed = caseOf({ ...EMPTY_FORM, name: 'x', mocks: '{"ghost": {"output": 1}}', path: 'start ghost' }, graph);
    expect(parsed.ok && parsed.notes).toEqual([
      'This version has no task ghost: those mocks are not used here.',
      'The path names nodes this version does not have: ghost.',
    ]);
  });

  it('round-trips through the form', () => {
    const value = {
      name: 'n',
      description: 'd',
      input: { a: 1 },
      mocks: { charge: { error: 'HttpError' } },
      outcomes: {},
      expect: { state: 'failed', path: ['start', 'charge'] },
    };
    const back = caseOf(formOf(value));
    expect(back.ok && back.value).toEqual(value);
  });
});

describe('helpers for the form', () => {
  it('offers a mock per task and the first outcome per handoff', () => {
    expect(caseTemplate(graph)).toEqual({ mocks: { charge: { output: {} } }, outcomes: { review: 'approve' } });
  });

  it('lists the end nodes, saying which fail the run', () => {
    expect(endNodes(graph)).toEqual([
      { id: 'done', text: 'Done (done)' },
      { id: 'declined', text: 'declined · fails the run' },
    ]);
  });
});

describe('reports', () => {
  it('sums up passes and failures', () => {
    expect(reportSummary({ passed: 1, failed: 1 })).toBe('1 passed, 1 failed');
    expect(reportSummary({ passed: 3, failed: 0 })).toBe('3 passed');
    expect(reportSummary({ passed: 0, failed: 0 })).toBe('no test cases');
  });

  it('says how many edges the cases cover and lists the others', () => {
    expect(coverageSummary({ covered: 7, total: 9, uncovered: ['e_medium', 'e_medium_done'] })).toBe(
      'coverage 7/9 edges; uncovered: e_medium, e_medium_done',
    );
    expect(coverageSummary({ covered: 2, total: 2, uncovered: [] })).toBe('coverage 2/2 edges; every edge covered');
    expect(coverageSummary({ covered: 0, total: 4, uncovered: ['a', 'b', 'c', 'd'] }, 2)).toBe('coverage 0/4 edges; uncovered: a, b and 2 more');
  });

  it('draws the nodes that ran and the edges taken', () => {
    const path = pathOf(result());
    expect([...path!.nodes]).toEqual(['start', 'charge', 'done']);
    expect([...path!.edges]).toEqual(['e1', 'e2']);
    expect(pathOf(undefined)).toBeNull();
  });

  it('keys results by case id, unsaved ones by place', () => {
    expect(resultKey({ id: 7 }, 0)).toBe('7');
    expect(resultKey({ id: null }, 2)).toBe('new-2');
  });

  it('notes the error of a failed run and the tasks nobody mocked', () => {
    const failed = result({
      run: { ...result().run, state: 'failed', error: { type: 'HttpError', message: '503' }, unmocked: ['notify'] },
    });
    expect(runNotes(failed)).toEqual(['error: HttpError: 503', 'not mocked (returned {}): notify']);
    expect(runNotes(result())).toEqual([]);
  });
});

describe('testTarget', () => {
  it('runs against the saved version and says when edits are left out', () => {
    expect(testTarget({ number: 3 }, false)).toEqual({ version: 3, note: null });
    expect(testTarget({ number: 3 }, true)).toEqual({
      version: 3,
      note: 'Runs against saved v3; your unsaved edits are not included.',
    });
    expect(testTarget(null, true).version).toBeNull();
  });
});
