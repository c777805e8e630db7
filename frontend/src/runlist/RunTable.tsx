/** One page of runs with checkboxes, and its pager. */

import { useEffect, useRef } from 'react';
import type { RunListItem } from '../api/types';
import { formatDateTime, formatRelative, runDuration, totalLabel } from '../ui/format';
import { StateBadge } from '../ui/StateBadge';
import { TriggerBadge } from '../ui/TriggerBadge';
import { PAGE_SIZE } from './search';
import { isSelected, pageState, toggle, togglePage, type Selection } from './selection';

interface RunTableProps {
  rows: RunListItem[];
  now: number;
  selection: Selection;
  onSelection: (selection: Selection) => void;
  loading: boolean;
  offset: number;
  count: number;
  countCapped?: boolean;
  onOffset: (offset: number) => void;
}

/** A run as the list answers it, with the business key once the search has it. */
type Row = RunListItem & { business_key?: string };

export function RunTable({ rows, now, selection, onSelection, loading, offset, count, countCapped = false, onOffset }: RunTableProps) {
  const ids = rows.map((r) => r.id);
  const state = pageState(selection, ids);
  const all = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (all.current) all.current.indeterminate = state === 'some';
  }, [state]);
  const first = count === 0 ? 0 : offset + 1;
  const last = Math.min(offset + rows.length, count);

  return (
    <div className="card table-card">
      <table className="table run-table" aria-busy={loading} data-testid="run-table">
        <thead>
          <tr>
            <th className="check-col">
              <input
                ref={all}
                type="checkbox"
                aria-label="Select the runs of this page"
                checked={state === 'all'}
                onChange={() => onSelection(togglePage(selection, ids))}
                data-testid="select-page"
              />
            </th>
            <th>Run</th>
            <th>Workflow</th>
            <th>State</th>
            <th className="wide-only">Trigger</th>
            <th className="wide-only">Key</th>
            <th>Created</th>
            <th className="wide-only">Duration</th>
            <th className="wide-only">Error</th>
          </tr>
        </thead>
        <tbody>
          {(rows as Row[]).map((run) => (
            <tr key={run.id} data-testid="run-row" data-run-id={run.id} className={isSelected(selection, run.id) ? 'is-selected' : undefined}>
              <td className="check-col">
                <input
                  type="checkbox"
                  aria-label={`Select run #${run.id}`}
                  checked={isSelected(selection, run.id)}
                  onChange={() => onSelection(toggle(selection, run.id))}
                  data-testid="select-run"
                />
              </td>
              <td className="numeric">
                <a href={`/runs/${run.id}/`}>#{run.id}</a>
              </td>
              <td>
                <span className="run-workflow" title={run.workflow}>
                  {run.workflow_name || run.workflow}
                </span>{' '}
                <span className="muted small">v{run.version}</span>
              </td>
              <td>
                <StateBadge state={run.state} testId="run-state" />
              </td>
              <td className="wide-only">
                <TriggerBadge trigger={run.trigger} triggerAt={run.trigger_at} workflow={run.workflow} />
              </td>
              <td className="wide-only">
                <span className="clamp key-cell">{run.business_key || '—'}</span>
              </td>
              <td className="numeric" title={formatDateTime(run.created_at)}>
                {formatRelative(run.created_at, now)}
              </td>
              <td className="numeric wide-only">{runDuration(run, now)}</td>
              <td className="error-cell wide-only" title={run.error ? `${run.error.type}: ${run.error.message}` : undefined}>
                {run.error ? (
                  <>
                    <strong>{run.error.type}</strong> {run.error.message}
                  </>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="table-footnote pager" data-testid="pager">
        <span className="muted small" data-testid="pager-info">
          {first}–{last} of {totalLabel(count, countCapped)}
        </span>
        <button type="button" className="btn btn-small" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - PAGE_SIZE))} data-testid="pager-previous">
          ← Previous
        </button>
        <button type="button" className="btn btn-small" disabled={last >= count} onClick={() => onOffset(offset + PAGE_SIZE)} data-testid="pager-next">
          Next →
        </button>
      </div>
    </div>
  );
}
