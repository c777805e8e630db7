/** The workflow's test cases: list, create, edit, delete, run against the open version; pick one to draw its path. */

import { useCallback, useEffect, useState } from 'react';
import { ApiError, isAbortError } from '../api/client';
import {
  createTestCase,
  deleteTestCase,
  listTestCases,
  runTests,
  updateTestCase,
  type TestCase,
  type TestReport,
  type TestResult,
} from '../api/changeSafety';
import type { ApiErrorItem } from '../api/types';
import type { WorkflowGraph } from '../graph';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { TestCaseForm } from './TestCaseForm';
import {
  caseOf,
  coverageSummary,
  EMPTY_FORM,
  formatPath,
  formOf,
  reportSummary,
  resultKey,
  runNotes,
  type CaseField,
  type CaseForm,
  type FormErrors,
} from './testCases';

/** A test report and what it ran: every saved case, or one unsaved case from the form. */
export interface TestRun {
  report: TestReport;
  scope: 'all' | 'draft-case';
  /** Said above the results: the run used the saved copy, not the unsaved edits. */
  note: string | null;
}

interface Editing {
  id: number | null; // null: a new case
  form: CaseForm;
  errors: FormErrors;
  apiErrors: ApiErrorItem[];
  notes: string[];
}

interface TestsPanelProps {
  slug: string;
  graph: WorkflowGraph;
  /** The version the tests run against, or null when nothing is saved. */
  version: number | null;
  /** Why the tests run against something else than what is on screen, or null. */
  targetNote: string | null;
  /** Why the user may not change cases, or null. */
  editDenied: string | null;
  run: TestRun | null;
  onRun: (run: TestRun | null) => void;
  /** The result whose path the canvas draws. */
  shown: string | null;
  onShow: (key: string | null) => void;
  /** Cases were added, changed or deleted: lint and coverage depend on them. */
  onCasesChanged: () => void;
}

export function TestsPanel({ slug, graph, version, targetNote, editDenied, run, onRun, shown, onShow, onCasesChanged }: TestsPanelProps) {
  const [cases, setCases] = useState<TestCase[] | null>(null);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [busy, setBusy] = useState<null | 'run' | 'save' | 'delete'>(null);

  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        const page = await listTestCases(slug, signal);
        setCases(page.results);
        setErrors([]);
      } catch (error) {
        if (!isAbortError(error)) setErrors(errorItems(error));
      }
    },
    [slug],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  const runAll = async () => {
    if (version === null) return;
    setBusy('run');
    setErrors([]);
    try {
      const report = await runTests(slug, version);
      onRun({ report, scope: 'all', note: targetNote });
      onShow(null);
    } catch (error) {
      setErrors(errorItems(error));
    } finally {
      setBusy(null);
    }
  };

  const change = (field: CaseField, value: string) =>
    setEditing((prev) => {
      if (prev === null) return prev;
      const errors = { ...prev.errors };
      delete errors[field];
      return { ...prev, form: { ...prev.form, [field]: value }, errors, notes: [] };
    });

  const parsed = () => {
    if (editing === null) return null;
    const result = caseOf(editing.form, graph);
    if (!result.ok) {
      setEditing({ ...editing, errors: result.errors, apiErrors: [] });
      return null;
    }
    return result;
  };

  const save = async () => {
    const result = parsed();
    if (result === null || editing === null) return;
    setBusy('save');
    try {
      const saved = editing.id === null ? await createTestCase(slug, result.value) : await updateTestCase(slug, editing.id, result.value);
      setEditing(null);
      await load();
      onCasesChanged();
      if (run !== null) onShow(null);
      // The saved case's old verdict no longer holds.
      if (run !== null && run.scope === 'all') onRun(withoutResult(run, saved.id));
    } catch (error) {
      const items = errorItems(error);
      setEditing((prev) => prev && { ...prev, apiErrors: items, notes: [] });
    } finally {
      setBusy(null);
    }
  };

  const tryCase = async () => {
    const result = parsed();
    if (result === null || editing === null || version === null) return;
    setBusy('run');
    try {
      const report = await runTests(slug, version, { cases: [result.value] });
      onRun({ report, scope: 'draft-case', note: targetNote });
      onShow(report.results[0] ? resultKey(report.results[0], 0) : null);
      setEditing((prev) => prev && { ...prev, apiErrors: [], notes: result.notes });
    } catch (error) {
      const items = errorItems(error);
      setEditing((prev) => prev && { ...prev, apiErrors: items });
    } finally {
      setBusy(null);
    }
  };

  const remove = async (testCase: TestCase) => {
    if (!window.confirm(`Delete the test case “${testCase.name}”?`)) return;
    setBusy('delete');
    try {
      await deleteTestCase(slug, testCase.id);
      if (editing?.id === testCase.id) setEditing(null);
      if (shown === String(testCase.id)) onShow(null);
      if (run !== null && run.scope === 'all') onRun(withoutResult(run, testCase.id));
      await load();
      onCasesChanged();
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) setErrors(errorItems(error));
      else await load();
    } finally {
      setBusy(null);
    }
  };

  const report = run?.report ?? null;
  const resultsById = new Map<number, { result: TestResult; key: string }>();
  const unsavedResults: { result: TestResult; key: string }[] = [];
  report?.results.forEach((result, index) => {
    const key = resultKey(result, index);
    if (result.id === null) unsavedResults.push({ result, key });
    else resultsById.set(result.id, { result, key });
  });
  const editingResult = editing?.id != null ? resultsById.get(editing.id)?.result : editing !== null ? unsavedResults[0]?.result : undefined;
  const runDenied = version === null ? 'Save a draft first: tests run against a saved version.' : null;

  return (
    <section className="tests-panel" aria-label="Test cases" data-testid="tests-panel">
      <header className="tests-head">
        <h2 className="panel-title">Test cases</h2>
        <div className="actions">
          <button
            type="button"
            className="btn btn-small"
            onClick={() => setEditing({ id: null, form: EMPTY_FORM, errors: {}, apiErrors: [], notes: [] })}
            disabled={editing !== null && editing.id === null}
            title={editDenied ?? 'Write a new test case'}
            data-testid="test-new"
          >
            + New
          </button>
          <button
            type="button"
            className="btn btn-small btn-primary"
            onClick={() => void runAll()}
            disabled={busy !== null || runDenied !== null || (cases !== null && cases.length === 0)}
            title={runDenied ?? (version !== null ? `Run every saved case against v${version}; nothing runs for real` : undefined)}
            data-testid="run-tests"
          >
            {busy === 'run' ? 'Running…' : 'Run tests'}
          </button>
        </div>
      </header>
      <p className="hint">
        A case runs the graph in memory with mocked tasks and handoff outcomes: no action is called.
        {version !== null ? ` Runs against v${version}.` : ''}
      </p>
      {targetNote ? (
        <p className="tests-note small" data-testid="tests-target-note">
          {targetNote}
        </p>
      ) : null}
      <ErrorList errors={errors} testId="tests-errors" />

      {report !== null && run !== null ? (
        <div className={`tests-report ${report.failed > 0 ? 'is-failing' : 'is-passing'}`} data-testid="test-report">
          <div className="tests-summary" data-testid="test-summary" data-passed={report.passed} data-failed={report.failed}>
            <strong>{run.scope === 'all' ? reportSummary(report) : report.failed ? 'The case fails' : 'The case passes'}</strong>
            <span className="muted"> · v{report.version}</span>
            <button type="button" className="link-button small tests-clear" onClick={() => onRun(null)} data-testid="test-clear">
              clear
            </button>
          </div>
          {run.scope === 'all' ? (
            <div className="tests-coverage small" data-testid="test-coverage" data-covered={report.coverage.covered} data-total={report.coverage.total}>
              {coverageSummary(report.coverage)}
              {report.coverage.uncovered.length > 0 ? <span className="legend legend-uncovered">on the canvas</span> : null}
            </div>
          ) : null}
          {run.note ? <p className="tests-note small">{run.note}</p> : null}
        </div>
      ) : null}

      {editing !== null ? (
        <TestCaseForm
          form={editing.form}
          errors={editing.errors}
          apiErrors={editing.apiErrors}
          notes={editing.notes}
          graph={graph}
          busy={busy !== null}
          isNew={editing.id === null}
          saveDenied={editDenied}
          tryDenied={runDenied}
          lastPath={editingResult?.run.path ?? null}
          onChange={change}
          onSave={() => void save()}
          onTry={() => void tryCase()}
          onCancel={() => setEditing(null)}
        />
      ) : null}

      {cases === null ? (
        errors.length === 0 ? <p className="muted small">Loading the test cases…</p> : null
      ) : cases.length === 0 && editing === null ? (
        <p className="muted small" data-testid="tests-empty">
          No test cases yet. Add one: an input, what the tasks return, and the end it should reach.
        </p>
      ) : (
        <ul className="test-list">
          {cases.map((testCase) => {
            const entry = resultsById.get(testCase.id);
            return (
              <ResultRow
                key={testCase.id}
                testId={`test-case-${testCase.id}`}
                name={testCase.name}
                description={testCase.description}
                result={entry?.result ?? null}
                shown={entry !== undefined && shown === entry.key}
                onShow={entry ? () => onShow(shown === entry.key ? null : entry.key) : null}
                onEdit={() => setEditing({ id: testCase.id, form: formOf(testCase), errors: {}, apiErrors: [], notes: [] })}
                onDelete={editDenied === null ? () => void remove(testCase) : null}
                busy={busy !== null}
              />
            );
          })}
          {unsavedResults.map(({ result, key }) => (
            <ResultRow
              key={key}
              testId={`test-result-${key}`}
              name={`${result.name} (not saved)`}
              description=""
              result={result}
              shown={shown === key}
              onShow={() => onShow(shown === key ? null : key)}
              onEdit={null}
              onDelete={null}
              busy={busy !== null}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

/** Drop one case's verdict from a report (the case changed or went). */
function withoutResult(run: TestRun, id: number): TestRun {
  return { ...run, report: { ...run.report, results: run.report.results.filter((r) => r.id !== id) } };
}

interface ResultRowProps {
  testId: string;
  name: string;
  description: string;
  result: TestResult | null;
  shown: boolean;
  onShow: (() => void) | null;
  onEdit: (() => void) | null;
  onDelete: (() => void) | null;
  busy: boolean;
}

function ResultRow({ testId, name, description, result, shown, onShow, onEdit, onDelete, busy }: ResultRowProps) {
  const verdict = result === null ? 'none' : result.passed ? 'passed' : 'failed';
  const notes = result ? runNotes(result) : [];
  return (
    <li className={`test-row is-${verdict}${shown ? ' is-shown' : ''}`} data-testid={testId} data-result={verdict} data-shown={shown ? 'true' : 'false'}>
      <div className="test-line">
        <button
          type="button"
          className="test-pick"
          onClick={onShow ?? undefined}
          disabled={onShow === null}
          aria-pressed={shown}
          title={onShow ? (shown ? 'Hide its path' : 'Draw its path on the canvas') : 'Run the tests to see its path'}
          data-testid={`${testId}-show`}
        >
          <span className={`test-verdict is-${verdict}`} aria-label={verdict}>
            {verdict === 'passed' ? '✓' : verdict === 'failed' ? '✗' : '·'}
          </span>
          <span className="test-name">{name}</span>
        </button>
        {onEdit ? (
          <button type="button" className="link-button small" onClick={onEdit} data-testid={`${testId}-edit`}>
            edit
          </button>
        ) : null}
        {onDelete ? (
          <button type="button" className="link-button small test-delete" onClick={onDelete} disabled={busy} data-testid={`${testId}-delete`}>
            delete
          </button>
        ) : null}
      </div>
      {description ? <div className="muted small test-description">{description}</div> : null}
      {result ? (
        <>
          {result.failures.length > 0 ? (
            <ul className="test-failures small" data-testid={`${testId}-failures`}>
              {result.failures.map((failure, i) => (
                <li key={i}>{failure}</li>
              ))}
            </ul>
          ) : null}
          <div className="test-path small mono" data-testid={`${testId}-path`} title="The nodes it ran, in order">
            {formatPath(result.run.path)}
            <span className="muted"> · {result.run.state.replace(/_/g, ' ')}</span>
          </div>
          {notes.map((note) => (
            <div key={note} className="muted small test-run-note">
              {note}
            </div>
          ))}
        </>
      ) : null}
    </li>
  );
}
