/** Start a run of a workflow's live version, inline under its row: the input schema's form, or JSON. */

import { useState, type FormEvent } from 'react';
import type { ApiErrorItem, RunSummary } from '../api/types';
import { startRun } from '../api/workflows';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { InputForm } from './InputForm';
import { useRunInput } from './useRunInput';

interface StartRunPanelProps {
  slug: string;
  liveVersion: number;
  onStarted: (run: RunSummary) => void;
  onClose: () => void;
}

export function StartRunPanel({ slug, liveVersion, onStarted, onClose }: StartRunPanelProps) {
  const input = useRunInput(slug);
  const [serverErrors, setServerErrors] = useState<ApiErrorItem[]>([]);
  const [submitting, setSubmitting] = useState(false);
  const [started, setStarted] = useState<RunSummary | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setServerErrors([]);
    setStarted(null);
    if (!input.check()) return;
    setSubmitting(true);
    try {
      const run = await startRun(slug, input.value);
      setStarted(run);
      onStarted(run);
    } catch (error) {
      setServerErrors(input.showServerErrors(errorItems(error)));
    } finally {
      setSubmitting(false);
    }
  }

  return (
    <form className="start-panel" onSubmit={submit} noValidate aria-label={`Start a run of v${liveVersion}`}>
      <p className="small strong">Input for v{liveVersion}</p>
      <InputForm
        schema={input.settings.input_schema}
        samples={input.settings.sample_inputs}
        value={input.value}
        onChange={input.setValue}
        problems={input.problems}
        onSaveSample={input.saveSample}
        onJsonError={input.setJsonError}
        testId={`start-input-${slug}`}
      />
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
            Run <a href={`/runs/${started.id}/`}>#{started.id}</a> started · <a href="/board/">Watch it on the board</a>
          </span>
        ) : null}
      </div>
    </form>
  );
}
