/** Start a run of the open (published) version, or of the live one, with JSON input. */

import { useState, type FormEvent } from 'react';
import type { ApiErrorItem, RunSummary } from '../api/types';
import { startVersionRun } from '../api/versions';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { parseRunInput } from '../workflows/input';

interface RunPanelProps {
  slug: string;
  /** The version the run will pin, or null when the workflow has nothing published. */
  version: number | null;
  /** Why the run does not use the open version (a draft, unsaved edits), if it does not. */
  note: string | null;
  onClose: () => void;
}

export function RunPanel({ slug, version, note, onClose }: RunPanelProps) {
  const [text, setText] = useState('{}');
  const [inputError, setInputError] = useState<string | null>(null);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [submitting, setSubmitting] = useState(false);
  const [started, setStarted] = useState<RunSummary | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (version === null) return;
    const parsed = parseRunInput(text);
    if (!parsed.ok) {
      setInputError(parsed.error);
      return;
    }
    setInputError(null);
    setErrors([]);
    setSubmitting(true);
    try {
      setStarted(await startVersionRun(slug, parsed.value, version));
    } catch (error) {
      setErrors(errorItems(error));
    } finally {
      setSubmitting(false);
    }
  }

  return (
    <form className="popover run-panel" onSubmit={submit} noValidate aria-label="Start a run" data-testid="run-panel">
      <header className="popover-head">
        <h2 className="panel-title">Start a run{version !== null ? ` of v${version}` : ''}</h2>
        <button type="button" className="btn btn-small" onClick={onClose} aria-label="Close">
          ✕
        </button>
      </header>
      {version === null ? (
        <p className="muted" data-testid="run-unavailable">
          Runs start on published versions. Save and publish this workflow first.
        </p>
      ) : (
        <>
          {note ? <p className="hint">{note}</p> : null}
          <label htmlFor="run-input" className="small strong">
            Input <span className="muted">(JSON object)</span>
          </label>
          <textarea
            id="run-input"
            rows={6}
            className={inputError ? 'mono invalid' : 'mono'}
            spellCheck={false}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              setInputError(null);
            }}
            aria-invalid={inputError !== null}
            data-testid="run-input"
          />
          {inputError ? (
            <p className="field-error" role="alert" data-testid="run-input-error">
              {inputError}
            </p>
          ) : null}
          <ErrorList errors={errors} testId="run-errors" />
          <div className="actions">
            <button type="submit" className="btn btn-primary" disabled={submitting} data-testid="start-run">
              {submitting ? 'Starting…' : 'Start run'}
            </button>
            {started ? (
              <span className="start-result" role="status">
                Run <a href={`/runs/${started.id}/`} data-testid="run-link" data-run-id={started.id}>#{started.id}</a> started
              </span>
            ) : null}
          </div>
        </>
      )}
    </form>
  );
}
