/** Test cases in the editor: the case form, its parsing, results and paths on the canvas (no React). */

import type { EdgeCoverage, TaskMock, TestCaseInput, TestReport, TestResult } from '../api/changeSafety';
import type { WorkflowGraph } from '../graph';

/** The case form as typed: JSON and lists stay text until the case is saved or run. */
export interface CaseForm {
  name: string;
  description: string;
  input: string;
  mocks: string;
  outcomes: string;
  end: string; // '' for any end
  state: string; // '' for any state
  path: string; // '' for any path
}

export type CaseField = keyof CaseForm;
export type FormErrors = Partial<Record<CaseField, string>>;

export type Parsed =
  | { ok: true; value: TestCaseInput; notes: string[] }
  | { ok: false; errors: FormErrors };

/** Final states a simulated run can reach (designer/testing.py). */
export const RUN_END_STATES = ['succeeded', 'failed', 'compensated', 'compensation_failed'] as const;

export const EMPTY_FORM: CaseForm = {
  name: '',
  description: '',
  input: '{}',
  mocks: '{}',
  outcomes: '{}',
  end: '',
  state: '',
  path: '',
};

const json = (value: unknown) => JSON.stringify(value, null, 2);

/** Return the form showing a saved (or unsaved) case. */
export function formOf(testCase: TestCaseInput): CaseForm {
  const { expect } = testCase;
  return {
    name: testCase.name,
    description: testCase.description ?? '',
    input: json(testCase.input ?? {}),
    mocks: json(testCase.mocks ?? {}),
    outcomes: json(testCase.outcomes ?? {}),
    end: expect?.end ?? '',
    state: expect?.state ?? '',
    path: expect?.path ? formatPath(expect.path) : '',
  };
}

/** Return "start → charge → done". */
export function formatPath(path: readonly string[]): string {
  return path.join(' → ');
}

/** Read a path typed as "start → a → done", "start, a, done", "start -> a" or a JSON list. */
export function parsePath(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const list: unknown = JSON.parse(trimmed);
      if (Array.isArray(list)) return list.map((item) => String(item).trim()).filter(Boolean);
    } catch {
      // Not JSON after all: split it like plain text.
    }
  }
  return trimmed.split(/\s*(?:,|→|->|\s)\s*/).filter(Boolean);
}

type ObjectResult = { ok: true; value: Record<string, unknown> } | { ok: false; error: string };

/** Parse a JSON object typed in a text area; an empty text is `{}`. */
export function parseObject(text: string, what: string): ObjectResult {
  if (!text.trim()) return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, error: `${what} is not valid JSON: ${detail}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: `${what} must be a JSON object, {…}` };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** Check one task's mock: `{"output": …}` or `{"error": "Name", "message"?, "retryable"?}`. */
export function mockProblem(nodeId: string, mock: unknown): string | null {
  if (typeof mock !== 'object' || mock === null || Array.isArray(mock)) {
    return `mock of ${nodeId} must be {"output": …} or {"error": "ErrorName"}`;
  }
  const m = mock as Record<string, unknown>;
  if (('output' in m) === ('error' in m)) {
    return `mock of ${nodeId} needs exactly one of "output" and "error"`;
  }
  if ('error' in m) {
    if (typeof m.error !== 'string' || !m.error.trim()) return `mock of ${nodeId}: "error" is the error's name, a string`;
    if ('message' in m && typeof m.message !== 'string') return `mock of ${nodeId}: "message" must be a string`;
    if ('retryable' in m && typeof m.retryable !== 'boolean') return `mock of ${nodeId}: "retryable" must be true or false`;
  }
  return null;
}

/**
 * Turn the form into a case to save or run, or say what is wrong with each field.
 * With the open graph, `notes` name mocks and outcomes for nodes it does not have
 * (a case may target another version, so those are not errors).
 */
export function caseOf(form: CaseForm, graph?: WorkflowGraph): Parsed {
  const errors: FormErrors = {};
  const name = form.name.trim();
  if (!name) errors.name = 'Give the case a name.';
  else if (name.length > 200) errors.name = 'At most 200 characters.';

  const input = parseObject(form.input, 'Input');
  if (!input.ok) errors.input = input.error;

  const mocks = parseObject(form.mocks, 'Mocks');
  if (!mocks.ok) errors.mocks = mocks.error;
  else {
    for (const [nodeId, mock] of Object.entries(mocks.value)) {
      const problem = mockProblem(nodeId, mock);
      if (problem) {
        errors.mocks = problem;
        break;
      }
    }
  }

  const outcomes = parseObject(form.outcomes, 'Outcomes');
  if (!outcomes.ok) errors.outcomes = outcomes.error;
  else {
    const bad = Object.entries(outcomes.value).find(([, outcome]) => typeof outcome !== 'string');
    if (bad) errors.outcomes = `the outcome of ${bad[0]} must be a string, such as "approve"`;
  }

  const path = form.path.trim() ? parsePath(form.path) : null;
  if (path !== null && path.length === 0) errors.path = 'List node ids: start → … → done.';

  if (Object.keys(errors).length > 0 || !input.ok || !mocks.ok || !outcomes.ok) return { ok: false, errors };

  const expect: TestCaseInput['expect'] = {};
  if (form.end) expect.end = form.end;
  if (form.state) expect.state = form.state;
  if (path) expect.path = path;

  return {
    ok: true,
    value: {
      name,
      description: form.description.trim(),
      input: input.value,
      mocks: mocks.value as Record<string, TaskMock>,
      outcomes: outcomes.value as Record<string, string>,
      expect,
    },
    notes: graph ? notesFor(graph, mocks.value, outcomes.value, path) : [],
  };
}

function notesFor(
  graph: WorkflowGraph,
  mocks: Record<string, unknown>,
  outcomes: Record<string, unknown>,
  path: string[] | null,
): string[] {
  const types = new Map(graph.nodes.map((n) => [n.id, n.type]));
  const notes: string[] = [];
  const notTasks = Object.keys(mocks).filter((id) => types.get(id) !== 'task');
  if (notTasks.length) notes.push(`This version has no task ${notTasks.join(', ')}: those mocks are not used here.`);
  const notHandoffs = Object.keys(outcomes).filter((id) => types.get(id) !== 'handoff');
  if (notHandoffs.length) notes.push(`This version has no handoff ${notHandoffs.join(', ')}.`);
  const unknown = (path ?? []).filter((id) => !types.has(id));
  if (unknown.length) notes.push(`The path names nodes this version does not have: ${unknown.join(', ')}.`);
  return notes;
}

/** Return mocks for every task and the first outcome of every handoff: a case to start from. */
export function caseTemplate(graph: WorkflowGraph): { mocks: Record<string, TaskMock>; outcomes: Record<string, string> } {
  const mocks: Record<string, TaskMock> = {};
  const outcomes: Record<string, string> = {};
  for (const node of graph.nodes) {
    if (node.type === 'task') mocks[node.id] = { output: {} };
    if (node.type === 'handoff') {
      const first = Array.isArray(node.outcomes) ? node.outcomes.find((o) => typeof o === 'string') : undefined;
      outcomes[node.id] = typeof first === 'string' ? first : '';
    }
  }
  return { mocks, outcomes };
}

/** Return the end nodes a case may expect, with their labels. */
export function endNodes(graph: WorkflowGraph): { id: string; text: string }[] {
  return graph.nodes
    .filter((n) => n.type === 'end')
    .map((n) => {
      const label = typeof n.label === 'string' && n.label ? `${n.label} (${n.id})` : n.id;
      return { id: n.id, text: n.status === 'failed' ? `${label} · fails the run` : label };
    });
}

/** Return "2 passed, 1 failed", "3 passed" or "no test cases". */
export function reportSummary(report: Pick<TestReport, 'passed' | 'failed'>): string {
  if (report.passed + report.failed === 0) return 'no test cases';
  if (report.failed === 0) return `${report.passed} passed`;
  return `${report.passed} passed, ${report.failed} failed`;
}

/** Return "coverage 7/9 edges; uncovered: e_medium, e_medium_done". */
export function coverageSummary(coverage: Pick<EdgeCoverage, 'covered' | 'total' | 'uncovered'>, max = 8): string {
  const head = `coverage ${coverage.covered}/${coverage.total} edges`;
  if (coverage.uncovered.length === 0) return coverage.total ? `${head}; every edge covered` : head;
  const listed = coverage.uncovered.slice(0, max).join(', ');
  const more = coverage.uncovered.length > max ? ` and ${coverage.uncovered.length - max} more` : '';
  return `${head}; uncovered: ${listed}${more}`;
}

/** The key of a result in a report: the saved case's id, or its place in the list. */
export function resultKey(result: Pick<TestResult, 'id'>, index: number): string {
  return result.id === null ? `new-${index}` : String(result.id);
}

/** What the canvas draws for a case: the nodes that ran and the edges taken. */
export interface PathHighlight {
  nodes: ReadonlySet<string>;
  edges: ReadonlySet<string>;
}

export function pathOf(result: Pick<TestResult, 'run'> | null | undefined): PathHighlight | null {
  if (!result) return null;
  return { nodes: new Set(result.run.path), edges: new Set(result.run.edges) };
}

/** One line about what a simulated run did besides its path: its error, unmocked tasks. */
export function runNotes(result: Pick<TestResult, 'run'>): string[] {
  const notes: string[] = [];
  const { run } = result;
  if (run.error?.message && run.state !== 'succeeded') notes.push(`error: ${run.error.type ? `${run.error.type}: ` : ''}${run.error.message}`);
  if (run.unmocked.length) notes.push(`not mocked (returned {}): ${run.unmocked.join(', ')}`);
  return notes;
}

/**
 * Pick the version the tests run against: the open one, saved. With unsaved edits the
 * saved copy runs, and the note says so; a graph never saved has nothing to run against.
 */
export function testTarget(current: { number: number } | null, dirty: boolean): { version: number | null; note: string | null } {
  if (current === null) return { version: null, note: 'Save a draft first: tests run against a saved version.' };
  if (dirty) return { version: current.number, note: `Runs against saved v${current.number}; your unsaved edits are not included.` };
  return { version: current.number, note: null };
}
