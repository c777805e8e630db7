/** Publish the open draft live or as a canary, and show what the publish gate said. */

import { useState, type FormEvent } from 'react';
import type { GateResult, ReleaseSettings } from '../api/changeSafety';
import { gateText, gateVerdict, parseCanaryPercent } from './release';

/** What the last publish did: published (with the gate's verdict), blocked by the gate, or failed. */
export type PublishOutcome =
  | { kind: 'published'; text: string; gate: GateResult | null }
  | { kind: 'blocked'; message: string; problems: string[] }
  | { kind: 'error'; message: string };

interface PublishDialogProps {
  /** What gets published: "v4 (draft)", or "your edits, saved first as a new draft". */
  what: string;
  settings: ReleaseSettings | null;
  liveVersion: number | null;
  canPublish: boolean;
  /** Why the user may not publish, or null. */
  denied: string | null;
  busy: boolean;
  outcome: PublishOutcome | null;
  onPublish: (canaryPercent: number) => void;
  onClose: () => void;
}

export function PublishDialog({ what, settings, liveVersion, canPublish, denied, busy, outcome, onPublish, onClose }: PublishDialogProps) {
  const [mode, setMode] = useState<'live' | 'canary'>('live');
  const [percent, setPercent] = useState('10');
  const [percentError, setPercentError] = useState<string | null>(null);
  const canary = settings?.canary ?? null;
  const canaryPossible = liveVersion !== null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (mode === 'live') {
      onPublish(0);
      return;
    }
    const parsed = parseCanaryPercent(percent);
    if (!parsed.ok) {
      setPercentError(parsed.error);
      return;
    }
    setPercentError(null);
    onPublish(parsed.value);
  };

  return (
    <form className="popover publish-dialog" role="dialog" aria-label="Publish" onSubmit={submit} noValidate data-testid="publish-dialog">
      <header className="popover-head">
        <h2 className="panel-title">Publish {what}</h2>
        <button type="button" className="btn btn-small" onClick={onClose} aria-label="Close">
          ✕
        </button>
      </header>
      {settings ? (
        <p className={`hint gate-line gate-${settings.publish_gate}`} data-testid="publish-gate-setting">
          {gateText(settings)}
        </p>
      ) : null}
      <fieldset className="publish-modes" disabled={busy || denied !== null || !canPublish}>
        <label className="publish-mode">
          <input type="radio" name="publish-mode" checked={mode === 'live'} onChange={() => setMode('live')} data-testid="publish-mode-live" />
          <span>
            <strong>Make it live</strong>
            <span className="muted small"> — every new run starts on it{liveVersion !== null ? ` instead of v${liveVersion}` : ''}.</span>
          </span>
        </label>
        <label className={`publish-mode${canaryPossible ? '' : ' is-disabled'}`}>
          <input
            type="radio"
            name="publish-mode"
            checked={mode === 'canary'}
            disabled={!canaryPossible}
            onChange={() => setMode('canary')}
            data-testid="publish-mode-canary"
          />
          <span>
            <strong>Canary</strong>
            <span className="muted small">
              {' '}
              —{' '}
              {canaryPossible
                ? `route a share of new runs to it; live v${liveVersion} keeps the rest. Promote or abort later.`
                : 'a first version goes live directly.'}
            </span>
          </span>
        </label>
        {mode === 'canary' ? (
          <div className="publish-percent">
            <label>
              Share of new runs{' '}
              <input
                type="number"
                min={1}
                max={99}
                step={1}
                value={percent}
                onChange={(e) => {
                  setPercent(e.target.value);
                  setPercentError(null);
                }}
                className={percentError ? 'invalid' : undefined}
                aria-invalid={percentError !== null}
                data-testid="publish-canary-percent"
              />{' '}
              %
            </label>
            {percentError ? (
              <p className="field-error" role="alert" data-testid="publish-percent-error">
                {percentError}
              </p>
            ) : null}
            {canary ? <p className="hint">v{canary.version} is the canary now; this one replaces it.</p> : null}
          </div>
        ) : null}
      </fieldset>
      <div className="actions">
        <button type="submit" className="btn btn-primary" disabled={busy || denied !== null || !canPublish} title={denied ?? undefined} data-testid="publish-confirm">
          {busy ? 'Publishing…' : mode === 'canary' ? 'Publish as canary' : 'Publish live'}
        </button>
        <button type="button" className="btn" onClick={onClose}>
          Close
        </button>
      </div>
      {outcome ? <OutcomeView outcome={outcome} /> : null}
    </form>
  );
}

function OutcomeView({ outcome }: { outcome: PublishOutcome }) {
  if (outcome.kind === 'blocked') {
    return (
      <div className="publish-result is-blocked" role="alert" data-testid="publish-result" data-kind="blocked">
        <strong>Not published: the publish gate blocks it.</strong>
        <ul className="gate-problems" data-testid="publish-blocked">
          {outcome.problems.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
        <p className="hint">Fix the failing cases (Tests, on the right) or add cases for the uncovered edges, then publish again.</p>
      </div>
    );
  }
  if (outcome.kind === 'error') {
    return (
      <div className="publish-result is-error" role="alert" data-testid="publish-result" data-kind="error">
        {outcome.message}
      </div>
    );
  }
  const { gate } = outcome;
  return (
    <div className={`publish-result ${gate && !gate.ok ? 'is-warned' : 'is-done'}`} role="status" data-testid="publish-result" data-kind="published">
      <strong>{outcome.text}</strong>
      {gate ? (
        <div data-testid="publish-gate" data-ok={gate.ok ? 'true' : 'false'}>
          <div className="small">{gateVerdict(gate)}</div>
          {gate.problems.length > 0 ? (
            <ul className="gate-problems">
              {gate.problems.map((problem) => (
                <li key={problem}>{problem}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
