/** Start a run of a workflow's live version with JSON input, inline under its row. */

import { useState, type FormEvent } from 'react';
import type { ApiErrorItem, RunSummary } from '../api/types';
import { startRun } from '../api/workflows';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { parseRunInput } from './input';

interface StartRunPanelProps {
  slug: string;
  liveVersion: number;
  onStarted: (run: RunSummary) => void;
  onClose: () => void;
}

export function StartRunPanel({ slug, liveVersion, onStarted, onClose }: StartRunPanelProps) {
  const [text, setText] = useState('{}');
  const [inputError, setInputError] = useState<string | null>(null);
  const [serverErrors, setServerErrors] = useState<ApiErrorItem[]>([]);
  const [submitting, setSubmitting] = useState(false);
  const [started, setStarted] = useState<RunSummary | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setServerErrors([]);
    setStarted(null);
    const parsed = parseRunInput(text);
    if (!parsed.ok) {
      setInputError(parsed.error);
      return;
    }
    setInputError(null);
    setSubmitting(true);
    try {
      const run = await startRun(slug, parsed.value);
      setStarted(run);
      onStarted(run);
    } catch (error) {
      setServerErrors(errorItems(error));
    } finally {
      setSubmitting(false);
    }
  }

  const inputId = `start-input-${slug}`;
  return (
    <form className="start-panel" onSubmit={submit} noValidate>
      <label htmlFor={inputId}>
        Input for v{liveVersion} <span className="muted">(JSON object)</span>
      </label>
      <textarea
        id={inputId}
        name="input"
        className={inputError ? 'invalid' : undefined}
        rows={4}
        spellCheck={false}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setInputError(null);
        }}
        aria-invalid={inputError !== null}
        aria-describedby={inputError ? `${inputId}-error` : undefined}
        data-testid={`start-input-${slug}`}
      />
      {inputError ? (
        <p id={`${inputId}-error`} className="field-error" role="alert" data-testid={`start-error-${slug}`}>
          {inputError}
        </p>
      ) : null}
      <ErrorList errors={serverErrors} testId={`start-server-errors-${slug}`} />
      <div className="actions">
        <button type="submit" className="btn btn-primary" disabled={submitting} data-testid={`start-submit-${slug}`}>
          {submitting ? 'Starting…' : 'Start'}
        </button>
        <button type="button" className="btn" onClick={onClose}>
          Close
        </button>
        {started ? (
          <span className="start-result" role="status" data-testid={`start-result-${slug}`}>
            Run #{started.id} started · <a href="/board/">Watch it on the board</a>
          </span>
        ) : null}
      </div>
    </form>
  );
}
