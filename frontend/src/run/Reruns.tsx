/** The run's retries from failure, oldest first: when, by whom, on which version, from which node, with what input. */

import type { Rerun } from '../api/types';
import { formatDateTime } from '../ui/format';

export function Reruns({ reruns }: { reruns: Rerun[] }) {
  return (
    <section className="card table-card" aria-labelledby="reruns-title" data-testid="reruns">
      <div className="section-head">
        <h2 id="reruns-title">Retries from failure</h2>
      </div>
      {reruns.length === 0 ? (
        <p className="muted table-message" data-testid="reruns-empty">
          This run has not been retried.
        </p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>#</th>
              <th>When</th>
              <th>By</th>
              <th>Version</th>
              <th>From node</th>
              <th>Input overrides</th>
            </tr>
          </thead>
          <tbody>
            {reruns.map((rerun, i) => (
              <tr key={i} data-testid={`rerun-${i + 1}`}>
                <td className="numeric">{i + 1}</td>
                <td title={formatDateTime(rerun.at ?? null)}>{rerun.at ? formatDateTime(rerun.at) : '—'}</td>
                <td>{rerun.actor ?? '—'}</td>
                <td>
                  v{rerun.version}
                  {rerun.version_choice && rerun.version_choice !== String(rerun.version) ? (
                    <span className="muted small"> ({rerun.version_choice})</span>
                  ) : null}
                </td>
                <td>
                  <code>{rerun.from_node}</code>
                </td>
                <td className="mono small">
                  {rerun.input && Object.keys(rerun.input).length > 0 ? JSON.stringify(rerun.input) : <span className="muted">none</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
