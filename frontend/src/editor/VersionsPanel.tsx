/** Version history: open a version, compare it, or make a published one live again. */

import type { CanaryState } from '../api/changeSafety';
import type { VersionSummary } from '../api/versions';
import { useNow } from '../hooks/useNow';
import { formatDateTime, formatRelative } from '../ui/format';

interface VersionsPanelProps {
  versions: readonly VersionSummary[];
  currentNumber: number | null;
  busy: boolean;
  onOpen: (number: number) => void;
  onDiff: (number: number) => void;
  onMakeLive: (number: number) => void;
  /** Why the user may not make a version live, or null. */
  makeLiveDenied?: string | null;
  /** The version taking a share of new runs, if one does. */
  canary?: CanaryState | null;
  onClose: () => void;
}

export function VersionsPanel({ versions, currentNumber, busy, onOpen, onDiff, onMakeLive, makeLiveDenied = null, canary = null, onClose }: VersionsPanelProps) {
  const now = useNow(30_000);
  return (
    <div className="popover versions-panel" role="dialog" aria-label="Version history" data-testid="versions-panel">
      <header className="popover-head">
        <h2 className="panel-title">Version history</h2>
        <button type="button" className="btn btn-small" onClick={onClose} aria-label="Close">
          ✕
        </button>
      </header>
      {versions.length === 0 ? (
        <p className="muted">No versions yet. Save a draft to create v1.</p>
      ) : (
        <ol className="version-list">
          {versions.map((version) => (
            <li
              key={version.number}
              className={version.number === currentNumber ? 'is-current' : undefined}
              data-testid={`version-row-${version.number}`}
              data-status={version.status}
            >
              <div className="version-line">
                <span className="version">v{version.number}</span>
                <span className={`vbadge vbadge-${version.status}`}>{version.status}</span>
                {version.is_live ? <span className="vbadge vbadge-live">live</span> : null}
                {version.number === canary?.version ? (
                  <span className="vbadge vbadge-canary" data-testid={`version-canary-${version.number}`}>
                    canary {canary.percent} %
                  </span>
                ) : null}
                {version.number === currentNumber ? <span className="muted small">open</span> : null}
                <span className="muted small version-time" title={formatDateTime(version.created_at)}>
                  {formatRelative(version.published_at ?? version.created_at, now)}
                  {version.created_by ? ` · ${version.created_by}` : ''}
                </span>
              </div>
              {version.note ? <div className="small version-note">{version.note}</div> : null}
              <div className="version-actions">
                {version.number !== currentNumber ? (
                  <button type="button" className="btn btn-small" onClick={() => onOpen(version.number)} data-testid={`version-open-${version.number}`}>
                    Open
                  </button>
                ) : null}
                {versions.length > 1 ? (
                  <button type="button" className="btn btn-small" onClick={() => onDiff(version.number)} data-testid={`version-diff-${version.number}`}>
                    Compare
                  </button>
                ) : null}
                {version.status === 'published' && !version.is_live && version.number !== canary?.version ? (
                  <button
                    type="button"
                    className="btn btn-small btn-secondary"
                    onClick={() => onMakeLive(version.number)}
                    disabled={busy || makeLiveDenied !== null}
                    title={makeLiveDenied ?? 'Make this version the live one again'}
                    data-testid={`make-live-${version.number}`}
                  >
                    Make live
                  </button>
                ) : null}
              </div>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
