/** Retry a finished run from a node, on its own, the live or another version, with input overrides. */

import { useState, type FormEvent } from 'react';
import { retryRun } from '../api/runs';
import type { ApiErrorItem, RetryRequest, RunDetail } from '../api/types';
import type { GraphNode } from '../graph';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { parseOverrides } from './view';

interface RetryFormProps {
  run: RunDetail;
  nodes: GraphNode[];
  /** Published version numbers of the workflow, newest first. */
  versions: number[];
  liveVersion: number | null;
  failedNode: string | null;
  onDone: (run: RunDetail) => void;
  onClose: () => void;
}

type VersionMode = 'original' | 'live' | 'number';

export function RetryForm({ run, nodes, versions, liveVersion, failedNode, onDone, onClose }: RetryFormProps) {
  const [mode, setMode] = useState<VersionMode>('original');
  const [number, setNumber] = useState<string>(String(versions[0] ?? run.version));
  const [fromNode, setFromNode] = useState('');
  const [overrides, setOverrides] = useState('');
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [busy, setBusy] = useState(false);
  const parsed = parseOverrides(overrides);
  const tasks = nodes.filter((n) => n.type !== 'start' && n.type !== 'end');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!parsed.ok) return;
    const request: RetryRequest = {
      version: mode === 'number' ? Number(number) : mode,
    };
    if (fromNode) request.from_node = fromNode;
    if (parsed.value !== undefined) request.input = parsed.value;
    setBusy(true);
    setErrors([]);
    try {
      onDone(await retryRun(run.id, request));
    } catch (error) {
      setErrors(errorItems(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card retry-form" onSubmit={submit} data-testid="retry-form">
      <h2>Retry run #{run.id}</h2>
      <p className="muted small">
        Steps that finished before the retry point are kept; it and everything after it run again, in the same run.
      </p>
      <fieldset className="retry-versions">
        <legend>Version</legend>
        <label className="check">
          <input type="radio" name="version" checked={mode === 'original'} onChange={() => setMode('original')} data-testid="retry-version-original" />{' '}
          Its own (v{run.version})
        </label>
        <label className="check">
          <input
            type="radio"
            name="version"
            checked={mode === 'live'}
            onChange={() => setMode('live')}
            disabled={liveVersion === null}
            data-testid="retry-version-live"
          />{' '}
          The live version{liveVersion !== null ? ` (v${liveVersion})` : ' (none)'}
        </label>
        <label className="check">
          <input
            type="radio"
            name="version"
            checked={mode === 'number'}
            onChange={() => setMode('number')}
            disabled={versions.length === 0}
            data-testid="retry-version-number"
          />{' '}
          Version{' '}
          <select
            value={number}
            onChange={(e) => {
              setNumber(e.target.value);
              setMode('number');
            }}
            disabled={versions.length === 0}
            data-testid="retry-version-select"
          >
            {versions.map((n) => (
              <option key={n} value={n}>
                v{n}
              </option>
            ))}
          </select>
        </label>
      </fieldset>
      <div className="field">
        <label htmlFor="retry-from">From node</label>
        <select id="retry-from" value={fromNode} onChange={(e) => setFromNode(e.target.value)} data-testid="retry-from-node">
          <option value="">{failedNode ? `Where it failed (${failedNode})` : 'Where it failed'}</option>
          {tasks.map((n) => (
            <option key={n.id} value={n.id}>
              {typeof n.label === 'string' && n.label ? `${n.label} (${n.id})` : n.id}
            </option>
          ))}
        </select>
        <p className="hint">The node must exist in the version the retry runs on.</p>
      </div>
      <div className="field">
        <label htmlFor="retry-input">Input overrides (JSON object, merged over the run's input)</label>
        <textarea
          id="retry-input"
          rows={4}
          className={parsed.ok ? 'mono' : 'mono invalid'}
          value={overrides}
          onChange={(e) => setOverrides(e.target.value)}
          placeholder='{"amount": 10}'
          spellCheck={false}
          data-testid="retry-input"
        />
        {!parsed.ok ? (
          <p className="field-error" data-testid="retry-input-error">
            {parsed.message}
          </p>
        ) : null}
      </div>
      <ErrorList errors={errors} testId="retry-errors" />
      <div className="actions">
        <button type="submit" className="btn btn-primary" disabled={busy || !parsed.ok} data-testid="retry-submit">
          {busy ? 'Retrying…' : 'Retry run'}
        </button>
        <button type="button" className="btn" onClick={onClose} disabled={busy}>
          Close
        </button>
      </div>
    </form>
  );
}
