/** The board's run table: one row per run with its state, timing and error. */

import { formatDateTime, formatRelative, runDuration } from '../ui/format';
import { StateBadge } from '../ui/StateBadge';
import { TriggerBadge } from '../ui/TriggerBadge';
import type { TableRow } from './runsTable';

export function RunTable({ rows, now, busy }: { rows: TableRow[]; now: number; busy: boolean }) {
  return (
    <table className="table runs-table" aria-busy={busy}>
      <thead>
        <tr>
          <th>Run</th>
          <th>Workflow</th>
          <th>Version</th>
          <th>State</th>
          <th>Started</th>
          <th>Duration</th>
          <th>Last event</th>
          <th>Error</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((run) => (
          <tr
            key={run.id}
            data-testid={`run-row-${run.id}`}
            data-state={run.state}
            data-stuck={run.stuck ? 'true' : undefined}
            className={run.stuck ? 'is-stuck' : undefined}
          >
            <td>
              <a href={`/runs/${run.id}/`} data-testid={`run-link-${run.id}`}>
                #{run.id}
              </a>{' '}
              <TriggerBadge trigger={run.trigger} triggerAt={run.trigger_at} workflow={run.workflow} testId={`run-trigger-${run.id}`} />
            </td>
            <td>
              {run.workflow_name || run.workflow}
              {run.workflow_name && run.workflow_name !== run.workflow ? <div className="muted small">{run.workflow}</div> : null}
            </td>
            <td>{run.version ? `v${run.version}` : '—'}</td>
            <td className="state-cell">
              <span key={run.changedByEventId} className={run.changedByEventId ? 'state-changed' : undefined}>
                <StateBadge state={run.state} testId={`run-state-${run.id}`} />
              </span>
              {run.stuck ? (
                <span
                  className="badge badge-stuck"
                  data-testid={`run-stuck-${run.id}`}
                  title={`No event since ${formatDateTime(run.last_event_at)}: longer than its steps may take`}
                >
                  stuck
                </span>
              ) : null}
            </td>
            <td title={formatDateTime(run.started_at ?? run.created_at)}>
              {run.started_at ? formatRelative(run.started_at, now) : <span className="muted">not started</span>}
            </td>
            <td className="numeric">{runDuration(run, now)}</td>
            <td title={formatDateTime(run.last_event_at)} className="muted">
              {run.last_event_at ? formatRelative(run.last_event_at, now) : '—'}
            </td>
            <td className="error-cell">
              {run.error ? (
                <span title={`${run.error.type}: ${run.error.message}`}>
                  <span className="error-type">{run.error.type}</span> {run.error.message}
                </span>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

