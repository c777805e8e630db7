/** The Runs page's search form: every filter the run list takes, errors next to their field. */

import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { RUN_STATES } from '../api/types';
import { listWorkflows } from '../api/workflows';
import { stateLabel } from '../ui/format';
import {
  formatInputCondition,
  fromLocalInput,
  parseInputConditions,
  toLocalInput,
  type RunSearch,
  type SearchField,
} from './search';

type FieldErrors = Partial<Record<SearchField | 'input', string>>;

interface SearchFormProps {
  search: RunSearch;
  fieldErrors: FieldErrors;
  onSearch: (search: RunSearch) => void;
}

const TRIGGERS = ['api', 'schedule', 'webhook', 'call', 'bulk'];
const EXTRA: SearchField[] = ['trigger', 'key', 'error_type', 'started_after', 'started_before'];

export function SearchForm({ search, fieldErrors, onSearch }: SearchFormProps) {
  const [fields, setFields] = useState(search.fields);
  const [inputText, setInputText] = useState(formatInputCondition(search.inputs));
  const [inputProblem, setInputProblem] = useState<string | null>(null);
  const [workflows, setWorkflows] = useState<{ slug: string; name: string }[]>([]);
  // On a phone the less used filters fold away unless one of them is set.
  const [more, setMore] = useState(() => EXTRA.some((name) => search.fields[name]) || search.inputs.length > 0);

  // The address bar changed (back, forward, a cleared search): show that search.
  useEffect(() => {
    setFields(search.fields);
    setInputText(formatInputCondition(search.inputs));
    setInputProblem(null);
  }, [search]);

  useEffect(() => {
    const controller = new AbortController();
    listWorkflows('', controller.signal).then(
      (page) => setWorkflows(page.results.map((w) => ({ slug: w.slug, name: w.name }))),
      () => undefined, // A free-text field still works without suggestions.
    );
    return () => controller.abort();
  }, []);

  const set = (name: SearchField, value: string) => setFields((prev) => ({ ...prev, [name]: value }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const inputs = parseInputConditions(inputText);
    if (inputs === null) {
      setInputProblem('Write each condition as path=value, e.g. customer.country=DE; separate several with ";".');
      return;
    }
    setInputProblem(null);
    onSearch({ fields, inputs });
  };

  const text = (name: SearchField, label: string, props: Record<string, unknown> = {}) => (
    <Field name={name} label={label} error={fieldErrors[name]} extra={EXTRA.includes(name)}>
      <input
        id={`search-${name}`}
        value={fields[name]}
        onChange={(e) => set(name, e.target.value)}
        aria-invalid={fieldErrors[name] ? true : undefined}
        data-testid={`search-${name}`}
        {...props}
      />
    </Field>
  );

  return (
    <form className="card run-search" onSubmit={submit} role="search" aria-label="Search runs" data-testid="run-search">
      <div className={`search-grid${more ? '' : ' is-folded'}`}>
        {text('q', 'Run id or business key', { placeholder: '#123 or ORD-12', type: 'search' })}
        {text('workflow', 'Workflow', { list: 'search-workflows', placeholder: 'any' })}
        <datalist id="search-workflows">
          {workflows.map((w) => (
            <option key={w.slug} value={w.slug}>
              {w.name}
            </option>
          ))}
        </datalist>
        <Field name="state" label="State" error={fieldErrors.state}>
          <select id="search-state" value={fields.state} onChange={(e) => set('state', e.target.value)} data-testid="search-state">
            <option value="">any</option>
            <option value="pending,running,paused,compensating">active</option>
            <option value="failed,cancelled,compensated,compensation_failed">unsuccessful</option>
            {RUN_STATES.map((state) => (
              <option key={state} value={state}>
                {stateLabel(state)}
              </option>
            ))}
            {fields.state && !isOffered(fields.state) ? <option value={fields.state}>{fields.state}</option> : null}
          </select>
        </Field>
        {text('version', 'Version', { inputMode: 'numeric', placeholder: 'any' })}
        {text('trigger', 'Trigger', { list: 'search-triggers', placeholder: 'any' })}
        <datalist id="search-triggers">
          {TRIGGERS.map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
        {text('key', 'Business key', { placeholder: 'exact key' })}
        {text('error_type', 'Error type', { placeholder: 'e.g. Timeout' })}
        <Field name="input" label="Input field" error={inputProblem ?? fieldErrors.input} extra>
          <input
            id="search-input"
            value={inputText}
            onChange={(e) => setInputText(e.target.value)}
            placeholder="customer.country=DE"
            aria-invalid={inputProblem || fieldErrors.input ? true : undefined}
            data-testid="search-input"
          />
        </Field>
        <Field name="started_after" label="Started after" error={fieldErrors.started_after} extra>
          <input
            id="search-started_after"
            type="datetime-local"
            value={toLocalInput(fields.started_after)}
            onChange={(e) => set('started_after', fromLocalInput(e.target.value))}
            data-testid="search-started_after"
          />
        </Field>
        <Field name="started_before" label="Started before" error={fieldErrors.started_before} extra>
          <input
            id="search-started_before"
            type="datetime-local"
            value={toLocalInput(fields.started_before)}
            onChange={(e) => set('started_before', fromLocalInput(e.target.value))}
            data-testid="search-started_before"
          />
        </Field>
      </div>
      <div className="search-actions">
        <button type="button" className="btn btn-link btn-small more-filters" aria-expanded={more} onClick={() => setMore((m) => !m)} data-testid="more-filters">
          {more ? 'Fewer filters' : 'More filters'}
        </button>
        <button type="submit" className="btn btn-primary" data-testid="search-submit">
          Search
        </button>
      </div>
    </form>
  );
}

function isOffered(state: string): boolean {
  return (
    (RUN_STATES as readonly string[]).includes(state) ||
    state === 'pending,running,paused,compensating' ||
    state === 'failed,cancelled,compensated,compensation_failed'
  );
}

interface FieldProps {
  name: string;
  label: string;
  error: string | undefined;
  /** Folded away on a phone until "More filters" (never while it shows an error). */
  extra?: boolean;
  children: ReactNode;
}

function Field({ name, label, error, extra = false, children }: FieldProps) {
  return (
    <div className={`search-field${error ? ' has-error' : ''}${extra && !error ? ' search-extra' : ''}`}>
      <label htmlFor={`search-${name}`}>{label}</label>
      {children}
      {error ? (
        <p className="field-error" role="alert" data-testid={`search-${name}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}
