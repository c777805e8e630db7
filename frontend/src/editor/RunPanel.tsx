/** Start a run of the open (published) version, or of the live one: input from the schema's form, or JSON. */

import { useState, type FormEvent } from 'react';
import type { ApiErrorItem, RunSummary } from '../api/types';
import { startVersionRun } from '../api/versions';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { InputForm } from '../workflows/InputForm';
import { useRunInput } from '../workflows/useRunInput';
import { InputSchemaEditor } from './execution/InputSchemaEditor';

interface RunPanelProps {
  slug: string;
  /** The version the run will pin, or null when the workflow has nothing published. */
  version: number | null;
  /** Why the run does not use the open version (a draft, unsaved edits), if it does not. */
  note: string | null;
  /** Why the role may not edit the input schema and samples, or null. */
  editDenied: string | null;
  onClose: () => void;
  /** A run was started (the editor's run picker shows it). */
  onStarted?: (run: RunSummary) => void;
}

export function RunPanel({ slug, version, note, editDenied, onClose, onStarted }: RunPanelProps) {
  const input = useRunInput(slug);
  const [tab, setTab] = useState<'run' | 'schema'>('run');
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [submitting, setSubmitting] = useState(false);
  const [started, setStarted] = useState<RunSummary | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (version === null) return;
    setErrors([]);
    if (!input.check()) return;
    setSubmitting(true);
    try {
      const run = await startVersionRun(slug, input.value, version);
      setStarted(run);
      onStarted?.(run);
    } catch (error) {
      setErrors(input.showServerErrors(errorItems(error)));
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
          <div className="side-tabs" role="tablist" aria-label="Run dialog">
            <button type="button" role="tab" aria-selected={tab === 'run'} className={`side-tab${tab === 'run' ? ' is-active' : ''}`} onClick={() => setTab('run')} data-testid="run-tab-run">
              Input
            </button>
            <button type="button" role="tab" aria-selected={tab === 'schema'} className={`side-tab${tab === 'schema' ? ' is-active' : ''}`} onClick={() => setTab('schema')} data-testid="run-tab-schema">
              Schema &amp; samples
            </button>
          </div>
        </>
      )}
      {version !== null && tab === 'schema' ? (
        <InputSchemaEditor slug={slug} settings={input.settings} denied={editDenied} onSaved={(saved) => input.setSettings({ input_schema: saved.input_schema ?? {}, sample_inputs: saved.sample_inputs ?? [] })} />
      ) : null}
      {version !== null && tab === 'run' ? (
        <>
          {note ? <p className="hint">{note}</p> : null}
          <InputForm
            schema={input.settings.input_schema}
            samples={input.settings.sample_inputs}
            value={input.value}
            onChange={input.setValue}
            problems={input.problems}
            onSaveSample={editDenied === null ? input.saveSample : null}
            onJsonError={input.setJsonError}
            testId="run-input"
          />
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
      ) : null}
    </form>
  );
}
