/** Pick the run whose data the canvas shows (the latest by default) and say how it maps onto the open version. */

import { useState } from 'react';
import { createTestCase } from '../../api/changeSafety';
import type { WorkflowGraph } from '../../graph';
import { errorItems } from '../../ui/ErrorList';
import { stateLabel } from '../../ui/format';
import './execution.css';
import { runAsTestCase } from './runAsTestCase';
import type { ExecutionData } from './useExecutionData';

interface ExecutionBarProps {
  execution: ExecutionData;
  graph: WorkflowGraph;
  /** The open version's number, or null for unsaved edits of a new workflow. */
  openVersion: number | null;
  slug: string;
  /** Why the role may not add test cases, or null. */
  editDenied: string | null;
  /** A test case was added (the Tests panel reads its list again). */
  onCaseSaved: () => void;
}

export function ExecutionBar({ execution, graph, openVersion, slug, editDenied, onCaseSaved }: ExecutionBarProps) {
  const { runs, runId, choose, run, loading, error, refresh } = execution;
  const [saved, setSaved] = useState<{ runId: number; text: string } | null>(null);

  async function saveAsCase() {
    if (run === null) return;
    try {
      const made = await createTestCase(slug, runAsTestCase(run));
      setSaved({ runId: run.id, text: `Saved as test case “${made.name}”: run it in Tests to replay this run's data through the open graph.` });
      onCaseSaved();
    } catch (failure) {
      setSaved({ runId: run.id, text: errorItems(failure).map((e) => e.message).join(' ') });
    }
  }
  const nodeIds = new Set(graph.nodes.map((n) => n.id));
  const missing = run ? [...new Set(run.steps.map((s) => s.node_id))].filter((id) => !nodeIds.has(id)) : [];
  const otherVersion = run !== null && openVersion !== null && run.version !== openVersion;
  return (
    <div className="execution-bar" data-testid="execution-bar" role="region" aria-label="Run data">
      <label className="small">
        <span className="strong">Run data</span>{' '}
        <select
          value={runId === null ? '' : String(runId)}
          onChange={(e) => choose(e.target.value === '' ? null : Number(e.target.value))}
          data-testid="execution-run"
        >
          <option value="">None</option>
          {runId !== null && !runs.some((r) => r.id === runId) ? <option value={String(runId)}>#{runId}</option> : null}
          {runs.map((r) => (
            <option key={r.id} value={String(r.id)}>
              #{r.id} · {stateLabel(r.state)} · v{r.version}
              {r.trigger === 'test' ? ' test' : ''}
            </option>
          ))}
        </select>
      </label>
      <button type="button" className="btn btn-small" onClick={refresh} aria-label="Reload the runs" title="Reload the runs" data-testid="execution-refresh">
        ↻
      </button>
      {loading ? <span className="small muted">Loading…</span> : null}
      {error ? (
        <span className="small field-error" role="alert">
          {error}
        </span>
      ) : null}
      {run ? (
        <span className="small" data-testid="execution-summary">
          <a href={`/runs/${run.id}/`}>Run #{run.id}</a> <span className={`badge badge-${run.state}`}>{stateLabel(run.state)}</span>
          {run.trigger === 'test' ? <span className="muted" data-testid="execution-test-run"> test of draft v{run.version}</span> : null}
          {otherVersion ? (
            <span className="execution-note" data-testid="execution-version-note">
              {' '}
              ran v{run.version}; the canvas shows v{openVersion}: steps matched by node id
              {missing.length > 0 ? ` (not on this version: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? '…' : ''})` : ''}.
            </span>
          ) : null}
        </span>
      ) : null}
      {run ? (
        <button type="button" className="btn btn-small" onClick={() => void saveAsCase()} disabled={editDenied !== null} title={editDenied ?? 'Replay this run’s input, task results and handoff outcomes through the open graph as a test case'} aria-label="Save this run as a test case" data-testid="execution-save-case">
          + Test case
        </button>
      ) : null}
      {saved !== null && saved.runId === run?.id ? (
        <span className="small" role="status" data-testid="execution-case-saved">
          {saved.text}
        </span>
      ) : null}
      {run === null && runs.length === 0 && !loading ? (
        <span className="small muted">No runs yet: start one to see its data here.</span>
      ) : null}
    </div>
  );
}
