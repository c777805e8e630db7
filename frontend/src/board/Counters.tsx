/** The board's counters: totals per state and the workflow × state matrix. */

import type { RunState } from '../api/types';
import { RUN_STATES } from '../api/types';
import { stateLabel } from '../ui/format';
import { countedWorkflows, totalCounts, type CountsState } from './counters';

const TILES: { key: RunState | 'other'; label: string }[] = [
  { key: 'pending', label: 'Pending' },
  { key: 'running', label: 'Running' },
  { key: 'paused', label: 'Paused' },
  { key: 'succeeded', label: 'Succeeded' },
  { key: 'failed', label: 'Failed' },
  { key: 'cancelled', label: 'Cancelled' },
  { key: 'other', label: 'Compensation' },
];

export function Totals({ counts }: { counts: CountsState }) {
  const totals = totalCounts(counts);
  const other = totals.compensating + totals.compensated + totals.compensation_failed;
  return (
    <div className="counters" data-testid="counters" data-loaded={counts.loaded}>
      {TILES.map(({ key, label }) => (
        <div key={key} className={`counter counter-${key}`} data-testid={`count-${key}`}>
          <span className="counter-value">{counts.loaded ? (key === 'other' ? other : totals[key]) : '–'}</span>
          <span className="counter-label">{label}</span>
        </div>
      ))}
    </div>
  );
}

export function CountsMatrix({ counts, onPick }: { counts: CountsState; onPick: (workflow: string, state: string) => void }) {
  const rows = countedWorkflows(counts);
  if (!counts.loaded) return null;
  return (
    <section className="card table-card" aria-labelledby="counts-title">
      <div className="section-head">
        <h2 id="counts-title">Runs by workflow and state</h2>
        <span className="muted small">All runs, kept current by the live stream. Click a number to list those runs.</span>
      </div>
      {rows.length === 0 ? (
        <div className="empty" data-testid="counts-empty">
          <p>No runs yet.</p>
        </div>
      ) : (
        <table className="table counts-table" data-testid="counts-table">
          <thead>
            <tr>
              <th>Workflow</th>
              {RUN_STATES.map((s) => (
                <th key={s} className="numeric">
                  <span className={`state-dot dot-${s}`} aria-hidden="true" />
                  {stateLabel(s)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((wf) => (
              <tr key={wf.slug} data-testid={`counts-row-${wf.slug}`}>
                <td>
                  <span className="row-title">{wf.name}</span>
                  {wf.name !== wf.slug ? <div className="muted small">{wf.slug}</div> : null}
                </td>
                {RUN_STATES.map((s) => {
                  const n = wf.counts[s] ?? 0;
                  return (
                    <td key={s} className="numeric">
                      <button
                        type="button"
                        className={`count-cell${n === 0 ? ' is-zero' : ''} count-${s}`}
                        data-testid={`counter-${wf.slug}-${s}`}
                        data-count={n}
                        onClick={() => onPick(wf.slug, s)}
                        title={`List ${wf.name} runs that are ${stateLabel(s)}`}
                      >
                        {n}
                      </button>
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

