/** While a canary runs: what share it takes since when, promote or abort it, compare it on the board. */

import type { CanaryState } from '../api/changeSafety';
import { useNow } from '../hooks/useNow';
import { formatDateTime } from '../ui/format';
import { canaryText, scorecardLink } from './release';

interface CanaryBannerProps {
  slug: string;
  canary: CanaryState;
  liveVersion: number | null;
  busy: boolean;
  /** Why the user may not promote or abort, or null. */
  denied: string | null;
  onPromote: () => void;
  onAbort: () => void;
}

export function CanaryBanner({ slug, canary, liveVersion, busy, denied, onPromote, onAbort }: CanaryBannerProps) {
  const now = useNow(30_000);
  return (
    <div className="canary-banner" role="status" data-testid="canary-banner" data-version={canary.version} data-percent={canary.percent}>
      <span className="canary-tag">canary</span>
      <span className="canary-text" title={`Started ${formatDateTime(canary.started_at)}`} data-testid="canary-text">
        {canaryText(canary, liveVersion, now)}
      </span>
      <a className="canary-link" href={scorecardLink(slug, liveVersion, canary.version)} data-testid="canary-scorecard-link">
        Compare live and canary on the scorecard →
      </a>
      <span className="canary-actions">
        <button
          type="button"
          className="btn btn-small btn-primary"
          onClick={onPromote}
          disabled={busy || denied !== null}
          title={denied ?? `Make v${canary.version} the live version for every new run`}
          data-testid="canary-promote"
        >
          Promote v{canary.version}
        </button>
        <button
          type="button"
          className="btn btn-small btn-danger"
          onClick={onAbort}
          disabled={busy || denied !== null}
          title={denied ?? `Stop routing runs to v${canary.version}; runs already on it finish on it`}
          data-testid="canary-abort"
        >
          Abort
        </button>
      </span>
    </div>
  );
}
