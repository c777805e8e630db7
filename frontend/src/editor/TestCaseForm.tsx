/** Create or edit one test case: input, mocks and outcomes as JSON, and what it expects. */

import { useId, useMemo, type FormEvent, type ReactNode } from 'react';
import type { ApiErrorItem } from '../api/types';
import type { WorkflowGraph } from '../graph';
import { ErrorList } from '../ui/ErrorList';
import { caseTemplate, endNodes, RUN_END_STATES, type CaseField, type CaseForm, type FormErrors } from './testCases';

interface TestCaseFormProps {
  form: CaseForm;
  errors: FormErrors;
  apiErrors: ApiErrorItem[];
  notes: string[];
  graph: WorkflowGraph;
  /** Saving or running. */
  busy: boolean;
  isNew: boolean;
  /** Why the user may not save cases (they may still try one), or null. */
  saveDenied: string | null;
  /** Why the case cannot run now (nothing saved yet), or null. */
  tryDenied: string | null;
  /** The path the case took in the last run, offered as its expected path. */
  lastPath: string[] | null;
  onChange: (field: CaseField, value: string) => void;
  onSave: () => void;
  onTry: () => void;
  onCancel: () => void;
}

export function TestCaseForm({
  form,
  errors,
  apiErrors,
  notes,
  graph,
  busy,
  isNew,
  saveDenied,
  tryDenied,
  lastPath,
  onChange,
  onSave,
  onTry,
  onCancel,
}: TestCaseFormProps) {
  const ends = useMemo(() => endNodes(graph), [graph]);
  const tasks = graph.nodes.filter((n) => n.type === 'task').map((n) => n.id);
  const handoffs = graph.nodes.filter((n) => n.type === 'handoff');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (saveDenied === null) onSave();
  };
  const fillTemplate = () => {
    const template = caseTemplate(graph);
    onChange('mocks', JSON.stringify(template.mocks, null, 2));
    if (handoffs.length > 0) onChange('outcomes', JSON.stringify(template.outcomes, null, 2));
  };
  const endKnown = form.end === '' || ends.some((e) => e.id === form.end);

  return (
    <form className="test-form" onSubmit={submit} noValidate aria-label={isNew ? 'New test case' : 'Edit test case'} data-testid="test-case-form">
      <h3 className="test-form-title">{isNew ? 'New test case' : `Edit “${form.name}”`}</h3>
      <FormField label="Name" error={errors.name}>
        {(id) => (
          <input
            id={id}
            type="text"
            value={form.name}
            maxLength={200}
            onChange={(e) => onChange('name', e.target.value)}
            aria-invalid={errors.name !== undefined}
            className={errors.name ? 'invalid' : undefined}
            data-testid="test-form-name"
          />
        )}
      </FormField>
      <FormField label="Description" optional>
        {(id) => (
          <input id={id} type="text" value={form.description} onChange={(e) => onChange('description', e.target.value)} data-testid="test-form-description" />
        )}
      </FormField>
      <JsonArea label="Input" field="input" form={form} errors={errors} onChange={onChange} rows={3} hint="The run's input, a JSON object." />
      <JsonArea
        label="Mocks"
        field="mocks"
        form={form}
        errors={errors}
        onChange={onChange}
        rows={5}
        hint={
          <>
            Per task: <code>{'{"output": …}'}</code> or <code>{'{"error": "HttpError", "retryable": true}'}</code>. A task
            without a mock returns <code>{'{}'}</code>.
            {tasks.length > 0 ? ` Tasks: ${tasks.join(', ')}.` : ''}{' '}
            {tasks.length > 0 ? (
              <button type="button" className="link-button" onClick={fillTemplate} data-testid="test-form-template">
                Fill in every task
              </button>
            ) : null}
          </>
        }
      />
      <JsonArea
        label="Outcomes"
        field="outcomes"
        form={form}
        errors={errors}
        onChange={onChange}
        rows={2}
        hint={
          handoffs.length > 0
            ? `Per handoff, the outcome a person picks: ${handoffs
                .map((h) => `${h.id} (${Array.isArray(h.outcomes) ? h.outcomes.join(' / ') : '?'})`)
                .join(', ')}.`
            : 'This version has no handoff.'
        }
      />
      <fieldset className="test-expect">
        <legend>Expect</legend>
        <div className="field-grid">
          <FormField label="End node">
            {(id) => (
              <select id={id} value={form.end} onChange={(e) => onChange('end', e.target.value)} data-testid="test-form-end">
                <option value="">any</option>
                {endKnown ? null : <option value={form.end}>{form.end} (not in this version)</option>}
                {ends.map((end) => (
                  <option key={end.id} value={end.id}>
                    {end.text}
                  </option>
                ))}
              </select>
            )}
          </FormField>
          <FormField label="Run state">
            {(id) => (
              <select id={id} value={form.state} onChange={(e) => onChange('state', e.target.value)} data-testid="test-form-state">
                <option value="">any</option>
                {RUN_END_STATES.map((state) => (
                  <option key={state} value={state}>
                    {state.replace(/_/g, ' ')}
                  </option>
                ))}
              </select>
            )}
          </FormField>
        </div>
        <FormField label="Path" optional error={errors.path}>
          {(id) => (
            <>
              <input
                id={id}
                type="text"
                className={`mono${errors.path ? ' invalid' : ''}`}
                placeholder="start → charge → done"
                spellCheck={false}
                value={form.path}
                onChange={(e) => onChange('path', e.target.value)}
                data-testid="test-form-path"
              />
              {lastPath && lastPath.length > 0 ? (
                <button type="button" className="link-button small" onClick={() => onChange('path', lastPath.join(' → '))} data-testid="test-form-use-path">
                  Use the path it took
                </button>
              ) : null}
            </>
          )}
        </FormField>
      </fieldset>
      {notes.length > 0 ? (
        <ul className="test-notes small" data-testid="test-form-notes">
          {notes.map((note) => (
            <li key={note}>{note}</li>
          ))}
        </ul>
      ) : null}
      <ErrorList errors={apiErrors} testId="test-form-errors" />
      <div className="actions">
        <button type="submit" className="btn btn-primary btn-small" disabled={busy || saveDenied !== null} title={saveDenied ?? undefined} data-testid="test-form-save">
          {isNew ? 'Add case' : 'Save case'}
        </button>
        <button
          type="button"
          className="btn btn-small"
          onClick={onTry}
          disabled={busy || tryDenied !== null}
          title={tryDenied ?? 'Run this case as it is in the form, without saving it'}
          data-testid="test-form-try"
        >
          Try it
        </button>
        <button type="button" className="btn btn-small" onClick={onCancel} data-testid="test-form-cancel">
          Cancel
        </button>
      </div>
    </form>
  );
}

function FormField({ label, optional, error, children }: { label: string; optional?: boolean; error?: string | undefined; children: (id: string) => ReactNode }) {
  const id = useId();
  return (
    <div className="ifield">
      <label htmlFor={id}>
        {label}
        {optional ? <span className="muted"> (optional)</span> : null}
      </label>
      {children(id)}
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

interface JsonAreaProps {
  label: string;
  field: 'input' | 'mocks' | 'outcomes';
  form: CaseForm;
  errors: FormErrors;
  onChange: (field: CaseField, value: string) => void;
  rows: number;
  hint: ReactNode;
}

function JsonArea({ label, field, form, errors, onChange, rows, hint }: JsonAreaProps) {
  const id = useId();
  const error = errors[field];
  return (
    <div className="ifield">
      <label htmlFor={id}>
        {label} <span className="muted">(JSON)</span>
      </label>
      <textarea
        id={id}
        rows={rows}
        className={`mono${error ? ' invalid' : ''}`}
        spellCheck={false}
        value={form[field]}
        onChange={(e) => onChange(field, e.target.value)}
        aria-invalid={error !== undefined}
        data-testid={`test-form-${field}`}
      />
      {error ? (
        <p className="field-error" role="alert" data-testid={`test-form-${field}-error`}>
          {error}
        </p>
      ) : (
        <p className="hint">{hint}</p>
      )}
    </div>
  );
}
