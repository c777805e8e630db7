/** A run's input as a form drawn from the workflow's input schema, or as JSON; with saved samples. */

import { useEffect, useId, useState } from 'react';
import './inputForm.css';
import type { SampleInput } from '../api/workflows';
import { parseRunInput } from './input';
import { formFields, parseNumber, setAt, valueAt, type FormField } from './schemaForm';

interface InputFormProps {
  schema: Record<string, unknown>;
  samples: SampleInput[];
  value: Record<string, unknown>;
  onChange: (value: Record<string, unknown>) => void;
  /** Problems by field path (`input.a.b`), from the form's own check or the server. */
  problems: Record<string, string>;
  /** Save the current input as a named sample; null when the role may not. */
  onSaveSample: ((name: string) => Promise<void>) | null;
  /** Says whether the JSON box holds text that does not parse (then nothing may start). */
  onJsonError: (error: string | null) => void;
  testId: string;
}

export function InputForm({ schema, samples, value, onChange, problems, onSaveSample, onJsonError, testId }: InputFormProps) {
  const fields = formFields(schema);
  const hasFields = fields.length > 0;
  const [mode, setMode] = useState<'form' | 'json'>(hasFields ? 'form' : 'json');
  const [chosen, setChosen] = useState(false);
  // The schema arrives after the first render: show its form unless JSON was chosen.
  useEffect(() => {
    if (!chosen) setMode(hasFields ? 'form' : 'json');
  }, [hasFields, chosen]);
  const [text, setText] = useState(() => JSON.stringify(value, null, 2));
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [sampleName, setSampleName] = useState('');
  const [saveNote, setSaveNote] = useState<string | null>(null);
  const id = useId();

  function replace(next: Record<string, unknown>) {
    onChange(next);
    setText(JSON.stringify(next, null, 2));
    setJsonError(null);
    onJsonError(null);
  }

  function switchTo(next: 'form' | 'json') {
    if (next === 'form' && jsonError) return;
    if (next === 'json') setText(JSON.stringify(value, null, 2));
    setChosen(true);
    setMode(next);
  }

  return (
    <div className="input-form" data-testid={`${testId}-form`}>
      <div className="input-form-tools">
        {fields.length > 0 ? (
          <div className="segmented" role="group" aria-label="Input as">
            <button type="button" className={`btn btn-small${mode === 'form' ? ' is-active' : ''}`} aria-pressed={mode === 'form'} onClick={() => switchTo('form')} disabled={jsonError !== null} data-testid={`${testId}-mode-form`}>
              Form
            </button>
            <button type="button" className={`btn btn-small${mode === 'json' ? ' is-active' : ''}`} aria-pressed={mode === 'json'} onClick={() => switchTo('json')} data-testid={`${testId}-mode-json`}>
              JSON
            </button>
          </div>
        ) : null}
        {samples.length > 0 ? (
          <label className="small">
            Sample{' '}
            <select
              value=""
              onChange={(e) => {
                const sample = samples.find((s) => s.name === e.target.value);
                if (sample) replace(sample.input);
              }}
              data-testid={`${testId}-sample`}
            >
              <option value="">Load a sample…</option>
              {samples.map((sample) => (
                <option key={sample.name} value={sample.name}>
                  {sample.name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
      </div>
      {mode === 'form' ? (
        <div className="input-form-fields">
          {fields.map((field) => (
            <Field key={field.name} field={field} value={value} onChange={replace} problems={problems} idPrefix={id} testId={testId} />
          ))}
          {problems.input ? (
            <p className="field-error" role="alert">
              {problems.input}
            </p>
          ) : null}
        </div>
      ) : (
        <>
          <label htmlFor={`${id}-json`} className="small strong">
            Input <span className="muted">(JSON object)</span>
          </label>
          <textarea
            id={`${id}-json`}
            rows={6}
            className={jsonError ? 'mono invalid' : 'mono'}
            spellCheck={false}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              const parsed = parseRunInput(e.target.value);
              const error = parsed.ok ? null : parsed.error;
              setJsonError(error);
              onJsonError(error);
              if (parsed.ok) onChange(parsed.value);
            }}
            aria-invalid={jsonError !== null}
            data-testid={testId}
          />
          {jsonError ? (
            <p className="field-error" role="alert" data-testid={`${testId}-error`}>
              {jsonError}
            </p>
          ) : null}
          {Object.entries(problems).map(([field, message]) => (
            <p key={field} className="field-error" role="alert">
              {field}: {message}
            </p>
          ))}
        </>
      )}
      {onSaveSample ? (
        <div className="input-form-save">
          <input
            type="text"
            value={sampleName}
            maxLength={100}
            placeholder="Sample name"
            aria-label="Sample name"
            onChange={(e) => {
              setSampleName(e.target.value);
              setSaveNote(null);
            }}
            data-testid={`${testId}-sample-name`}
          />
          <button
            type="button"
            className="btn btn-small"
            disabled={!sampleName.trim() || jsonError !== null}
            onClick={() => {
              const name = sampleName.trim();
              onSaveSample(name).then(
                () => {
                  setSaveNote(`Saved “${name}”.`);
                  setSampleName('');
                },
                (error: unknown) => setSaveNote(error instanceof Error ? error.message : String(error)),
              );
            }}
            data-testid={`${testId}-save-sample`}
          >
            Save as sample
          </button>
          {saveNote ? (
            <span className="small muted" role="status">
              {saveNote}
            </span>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

interface FieldProps {
  field: FormField;
  value: Record<string, unknown>;
  onChange: (value: Record<string, unknown>) => void;
  problems: Record<string, string>;
  idPrefix: string;
  testId: string;
}

function Field({ field, value, onChange, problems, idPrefix, testId }: FieldProps) {
  const key = field.path.join('.');
  const id = `${idPrefix}-${key}`;
  const problem = problems[`input.${key}`];
  const current = valueAt(value, field.path);
  const set = (next: unknown) => onChange(setAt(value, field.path, next));
  const label = (
    <label htmlFor={id}>
      {field.title}
      {field.required ? <span aria-hidden="true"> *</span> : null}
      {field.required ? <span className="sr-only"> (required)</span> : null}
    </label>
  );
  const fieldTestId = `${testId}-field-${key}`;
  let control;
  if (field.kind === 'object') {
    return (
      <fieldset className="input-form-group" data-testid={fieldTestId}>
        <legend>{field.title}</legend>
        {field.children?.map((child) => (
          <Field key={child.name} field={child} value={value} onChange={onChange} problems={problems} idPrefix={idPrefix} testId={testId} />
        ))}
        {problem ? (
          <p className="field-error" role="alert">
            {problem}
          </p>
        ) : null}
      </fieldset>
    );
  }
  if (field.kind === 'boolean') {
    control = <input id={id} type="checkbox" checked={current === true} onChange={(e) => set(e.target.checked)} data-testid={fieldTestId} />;
  } else if (field.kind === 'enum') {
    const options = field.options ?? [];
    const index = options.findIndex((o) => JSON.stringify(o) === JSON.stringify(current));
    control = (
      <select id={id} value={index < 0 ? '' : String(index)} onChange={(e) => set(e.target.value === '' ? undefined : options[Number(e.target.value)])} data-testid={fieldTestId}>
        <option value="">—</option>
        {options.map((option, i) => (
          <option key={i} value={String(i)}>
            {typeof option === 'string' ? option : JSON.stringify(option)}
          </option>
        ))}
      </select>
    );
  } else if (field.kind === 'number' || field.kind === 'integer') {
    control = <NumberInput id={id} value={current} integer={field.kind === 'integer'} onChange={set} testId={fieldTestId} />;
  } else if (field.kind === 'raw') {
    control = <RawInput id={id} value={current} onChange={set} testId={fieldTestId} />;
  } else {
    control = (
      <input id={id} type="text" value={typeof current === 'string' ? current : ''} onChange={(e) => set(e.target.value === '' ? undefined : e.target.value)} aria-invalid={problem !== undefined} data-testid={fieldTestId} />
    );
  }
  return (
    <div className={`ifield${field.kind === 'boolean' ? ' ifield-inline' : ''}`}>
      {label}
      {control}
      {problem ? (
        <p className="field-error" role="alert" data-testid={`${fieldTestId}-error`}>
          {problem}
        </p>
      ) : field.description ? (
        <p className="hint">{field.description}</p>
      ) : null}
    </div>
  );
}

function NumberInput({ id, value, integer, onChange, testId }: { id: string; value: unknown; integer: boolean; onChange: (v: unknown) => void; testId: string }) {
  const [text, setText] = useState(typeof value === 'number' ? String(value) : '');
  const [error, setError] = useState<string | null>(null);
  const shown = typeof value === 'number' && parseNumber(text, integer).ok && Number(text) !== value ? String(value) : text;
  return (
    <>
      <input
        id={id}
        type="text"
        inputMode="decimal"
        value={shown}
        onChange={(e) => {
          setText(e.target.value);
          const parsed = parseNumber(e.target.value, integer);
          setError(parsed.ok ? null : parsed.error);
          onChange(parsed.ok ? parsed.value : e.target.value);
        }}
        aria-invalid={error !== null}
        data-testid={testId}
      />
      {error ? <p className="field-error">{error}</p> : null}
    </>
  );
}

function RawInput({ id, value, onChange, testId }: { id: string; value: unknown; onChange: (v: unknown) => void; testId: string }) {
  const [text, setText] = useState(value === undefined ? '' : JSON.stringify(value));
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <input
        id={id}
        type="text"
        className="mono"
        value={text}
        placeholder="JSON"
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === '') {
            setError(null);
            onChange(undefined);
            return;
          }
          try {
            onChange(JSON.parse(e.target.value));
            setError(null);
          } catch {
            setError('Not valid JSON yet.');
          }
        }}
        data-testid={testId}
      />
      {error ? <p className="field-error">{error}</p> : null}
    </>
  );
}
