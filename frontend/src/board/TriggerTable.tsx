/** The scorecard's "Runs by trigger": finished runs and success rate per trigger, for each version card. */

import type { Scorecard, TriggerRuns } from '../api/metrics';
import { finishedShare, triggerRows, type TriggerRow } from './byTrigger';
import { formatPercent } from './scorecard';

interface TriggerTableProps {
  a: Scorecard;
  b: Scorecard | null;
  labelA: string;
  labelB: string;
}

export function TriggerTable({ a, b, labelA, labelB }: TriggerTableProps) {
  const rows = triggerRows(a, b);
  const sides: { key: 'a' | 'b'; label: string }[] = b === null ? [{ key: 'a', label: labelA }] : [
    { key: 'a', label: labelA },
    { key: 'b', label: labelB },
  ];
  return (
    <section className="card trigger-card" data-testid="scorecard-by-trigger">
      <div className="metric-head">
        <h3>Runs by trigger</h3>
      </div>
      <p className="metric-help muted small">Finished runs in the window by what started them, and the share that succeeded</p>
      {rows.length === 0 ? (
        <p className="muted small" data-testid="by-trigger-empty">
          No run finished in this window.
        </p>
      ) : (
        <table className="table trigger-table">
          <thead>
            <tr>
              <th rowSpan={b === null ? 1 : 2}>Trigger</th>
              {b === null ? (
                <>
                  <th className="numeric">Finished</th>
                  <th>Success rate</th>
                </>
              ) : (
                sides.map((side) => (
                  <th key={side.key} colSpan={2} className="trigger-side">
                    {side.label}
                  </th>
                ))
              )}
            </tr>
            {b === null ? null : (
              <tr>
                {sides.map((side) => [
                  <th key={`${side.key}-f`} className="numeric">
                    Finished
                  </th>,
                  <th key={`${side.key}-r`}>Success rate</th>,
                ])}
              </tr>
            )}
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.trigger} data-testid={`by-trigger-${row.trigger}`}>
                <td>
                  <span className={`trigger-badge trigger-${row.trigger}`}>{row.label}</span>
                </td>
                {sides.map((side) => (
                  <TriggerCells key={side.key} runs={row[side.key]} rows={rows} testId={`by-trigger-${side.key}-${row.trigger}`} />
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function TriggerCells({ runs, rows, testId }: { runs: TriggerRuns | null; rows: readonly TriggerRow[]; testId: string }) {
  if (runs === null) {
    return (
      <>
        <td className="numeric muted">0</td>
        <td className="muted small">no data</td>
      </>
    );
  }
  return (
    <>
      <td className="numeric" data-testid={`${testId}-finished`}>
        <span className="trigger-bar" style={{ width: `${finishedShare(runs.finished, rows)}%` }} aria-hidden="true" />
        {runs.finished}
      </td>
      <td data-testid={`${testId}-rate`} title={`${runs.succeeded} of ${runs.finished} succeeded`}>
        {formatPercent(runs.success_rate)}
      </td>
    </>
  );
}
