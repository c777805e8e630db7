/** The top bar's title: the workflow's name, the version picker and the open version's status. */

import type { CanaryState } from '../api/changeSafety';
import type { Workflow } from '../api/types';
import type { VersionSummary } from '../api/versions';

interface TopbarTitleProps {
  slug: string;
  workflow: Workflow | null;
  versions: readonly VersionSummary[];
  current: VersionSummary | null;
  canary: CanaryState | null;
  dirty: boolean;
  busy: boolean;
  onPickVersion: (number: number) => void;
}

export function TopbarTitle({ slug, workflow, versions, current, canary, dirty, busy, onPickVersion }: TopbarTitleProps) {
  const statusText = current === null ? 'new' : current.is_live ? 'live' : current.status;
  const saysStatus = current !== null && (current.is_live || current.status === 'draft' || current.number === canary?.version);
  return (
    <div className="topbar-group topbar-title">
      <a href="/" className="back-link" title="All workflows" aria-label="All workflows">
        ←
      </a>
      <h1 className="editor-name" data-testid="workflow-name" title={workflow?.name}>
        {workflow?.name ?? slug}
      </h1>
      {/* The open version and its status (data-status), whether the picker or the badge says it. */}
      <span className="version-picker" data-testid="version-status" data-status={current?.status ?? 'new'}>
        <select
          className="version-select"
          aria-label="Version"
          value={current?.number ?? ''}
          onChange={(e) => onPickVersion(Number(e.target.value))}
          disabled={versions.length === 0 || busy}
          data-testid="version-select"
        >
          {current === null ? <option value="">new</option> : null}
          {versions.map((v) => (
            <option key={v.number} value={v.number}>
              v{v.number}
              {v.is_live ? ' (live)' : v.number === canary?.version ? ' (canary)' : v.status === 'draft' ? ' (draft)' : ''}
            </option>
          ))}
        </select>
        {/* The picker already says "(live)", "(canary)" or "(draft)": the badge says the rest. */}
        {saysStatus ? null : <span className={`vbadge vbadge-${statusText}`}>{current === null ? 'not saved' : current.status}</span>}
      </span>
      {current !== null && current.number === canary?.version ? <span className="vbadge vbadge-canary">canary {canary.percent} %</span> : null}
      {dirty && current !== null ? (
        <span className="dirty" data-testid="dirty-indicator" title="Unsaved changes">
          ● edited
        </span>
      ) : null}
    </div>
  );
}
