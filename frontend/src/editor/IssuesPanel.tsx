/** List validation errors and warnings; clicking one selects and centers its element. */

import { memo } from 'react';
import { countLevels, issueTestId, type PinnedIssue } from './issues';

// Long lists (a 500-node graph's warnings) are cut to keep each render cheap.
const MAX_LISTED = 200;

interface IssuesPanelProps {
  issues: readonly PinnedIssue[];
  open: boolean;
  checking: boolean;
  onToggle: () => void;
  onFocus: (issue: PinnedIssue) => void;
}

export const IssuesPanel = memo(function IssuesPanel({ issues, open, checking, onToggle, onFocus }: IssuesPanelProps) {
  const { errors, warnings } = countLevels(issues);
  return (
    <section className={`editor-issues ${open ? 'is-open' : ''}`} aria-label="Problems" data-testid="issues-panel">
      <button type="button" className="issues-toggle" onClick={onToggle} aria-expanded={open} data-testid="issues-toggle">
        <span className="issues-caret" aria-hidden="true">
          {open ? '▾' : '▸'}
        </span>
        Problems
        <span className={`count-pill ${errors > 0 ? 'is-error' : ''}`} data-testid="issues-error-count">
          {errors} {errors === 1 ? 'error' : 'errors'}
        </span>
        <span className={`count-pill ${warnings > 0 ? 'is-warning' : ''}`} data-testid="issues-warning-count">
          {warnings} {warnings === 1 ? 'warning' : 'warnings'}
        </span>
        {checking ? <span className="muted small">checking…</span> : null}
        {/* Nothing to list: say so in the bar, which is all the panel takes of the canvas. */}
        {issues.length === 0 ? (
          <span className="issues-empty" data-testid="issues-empty">
            No problems found. Save a draft, then publish it to run.
          </span>
        ) : null}
      </button>
      {open && issues.length > 0 ? (
        <ul className="issues-list" data-testid="issues-list">
          {issues.slice(0, MAX_LISTED).map((issue, index) => {
            const target = issue.node_id ?? issue.edge_id;
            return (
              <li key={`${issue.level}-${issue.code}-${target ?? ''}-${index}`}>
                <button
                  type="button"
                  className={`issue is-${issue.level}`}
                  onClick={() => onFocus(issue)}
                  disabled={!target}
                  data-testid={issueTestId(issue)}
                  data-level={issue.level}
                  data-source={issue.source}
                >
                  <span className="issue-icon" aria-hidden="true">
                    {issue.level === 'error' ? '✕' : '!'}
                  </span>
                  <code className="issue-code">{issue.code}</code>
                  <span className="issue-message">{issue.message}</span>
                  {target ? <span className="issue-target">{issue.node_id ? `node ${target}` : `edge ${target}`}</span> : null}
                  {issue.source === 'server' ? <span className="issue-source">server</span> : null}
                </button>
              </li>
            );
          })}
          {issues.length > MAX_LISTED ? (
            <li className="issues-more muted small">
              …and {issues.length - MAX_LISTED} more; fix these first, or zoom to the marked nodes.
            </li>
          ) : null}
        </ul>
      ) : null}
    </section>
  );
});
