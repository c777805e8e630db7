/** The chosen run's data for the selected node: its params as given, output, error and attempts. */

import { useEffect, useState } from 'react';
import { getStepParams, type StepParams } from '../../api/runs';
import type { RunDetail } from '../../api/types';
import { JsonTree } from '../../ui/JsonTree';
import { formatClock, stateLabel } from '../../ui/format';
import './execution.css';
import { RunFromHere, type TestRunTarget } from './RunFromHere';

interface StepDataPanelProps {
  run: RunDetail;
  nodeId: string;
  /** The open version, for "run from here". */
  testRun: TestRunTarget;
}

export function StepDataPanel({ run, nodeId, testRun }: StepDataPanelProps) {
  const visits = run.steps.filter((s) => s.node_id === nodeId && s.compensates === null);
  const [visitId, setVisitId] = useState<number | null>(null);
  const step = visits.find((s) => s.id === visitId) ?? visits[visits.length - 1] ?? null;
  const [params, setParams] = useState<StepParams | null>(null);
  const [paramsError, setParamsError] = useState<string | null>(null);

  useEffect(() => setVisitId(null), [run.id, nodeId]);

  const stepId = step?.id ?? null;
  useEffect(() => {
    setParams(null);
    setParamsError(null);
    if (stepId === null) return;
    const controller = new AbortController();
    getStepParams(run.id, stepId, controller.signal).then(setParams, (error: unknown) => {
      if (!controller.signal.aborted) setParamsError(error instanceof Error ? error.message : String(error));
    });
    return () => controller.abort();
  }, [run.id, stepId]);

  return (
    <details className="step-data" open aria-label={`Data of ${nodeId} in run ${run.id}`} data-testid="step-data">
      <summary>
        <h3>
          In <a href={`/runs/${run.id}/`}>run #{run.id}</a>{' '}
          <span className="muted small">{run.trigger === 'test' ? `(test of draft v${run.version})` : `(v${run.version})`}</span>
        </h3>
      </summary>
      <RunFromHere target={testRun} run={run} nodeId={nodeId} />
      {step === null ? (
        <p className="muted" data-testid="step-data-none">
          {nodeId} did not run in this run.
        </p>
      ) : (
        <>
          <p>
            <span className={`badge badge-${step.state}`} data-testid="step-data-state" data-state={step.state}>
              {stateLabel(step.state)}
            </span>{' '}
            <span className="small muted">
              {step.started_at ? formatClock(step.started_at) : ''}
              {step.finished_at ? ` → ${formatClock(step.finished_at)}` : ''}
            </span>
            {visits.length > 1 ? (
              <label className="small">
                {' '}
                Visit{' '}
                <select value={String(step.id)} onChange={(e) => setVisitId(Number(e.target.value))} data-testid="step-data-visit">
                  {visits.map((visit, index) => (
                    <option key={visit.id} value={String(visit.id)}>
                      {index + 1} of {visits.length}
                    </option>
                  ))}
                </select>
              </label>
            ) : null}
          </p>
          {run.seeded?.[String(step.id)] !== undefined ? (
            <p className="hint" data-testid="step-data-seeded">
              Copied from <a href={`/runs/${run.seeded[String(step.id)]}/`}>run #{run.seeded[String(step.id)]}</a>, not run again: the
              test run started after it.
            </p>
          ) : null}
          <h4>Input params</h4>
          {paramsError ? <p className="field-error">{paramsError}</p> : null}
          {params === null && !paramsError ? <p className="muted small">Loading…</p> : null}
          {params?.attempts.map((attempt) => (
            <div key={attempt.number ?? 0} data-testid="step-data-params">
              {params.attempts.length > 1 ? <p className="small muted">Attempt {attempt.number}</p> : null}
              {attempt.error ? (
                <p className="field-error">{attempt.error}</p>
              ) : attempt.too_large ? (
                <p className="muted small">Too large to show ({attempt.too_large} bytes).</p>
              ) : (
                <JsonTree value={attempt.value} />
              )}
            </div>
          ))}
          {params && params.expressions.length > 0 ? (
            <p className="hint">Expressions ({params.expressions.join(', ')}) evaluated again from this run’s stored data.</p>
          ) : null}
          <h4>Output</h4>
          {step.output === null || step.output === undefined ? <p className="muted small">None.</p> : <JsonTree value={step.output} testId="step-data-output" />}
          {step.error ? (
            <>
              <h4>Error</h4>
              <p className="field-error" data-testid="step-data-error">
                <strong>{step.error.type}</strong>: {step.error.message}
              </p>
            </>
          ) : null}
          {step.attempts.length > 0 ? (
            <>
              <h4>Attempts</h4>
              <table data-testid="step-data-attempts">
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">State</th>
                    <th scope="col">Started</th>
                    <th scope="col">Error</th>
                  </tr>
                </thead>
                <tbody>
                  {step.attempts.map((attempt) => (
                    <tr key={attempt.id}>
                      <td>{attempt.number}</td>
                      <td>{stateLabel(attempt.state)}</td>
                      <td>{attempt.started_at ? formatClock(attempt.started_at) : '—'}</td>
                      <td>{attempt.error ? `${attempt.error.type}: ${attempt.error.message}`.slice(0, 120) : ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : null}
        </>
      )}
    </details>
  );
}
