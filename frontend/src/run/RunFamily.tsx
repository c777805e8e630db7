/** The runs a run is linked to by calls: the run that called it, and the sub-workflow runs it started. */

import type { ChildRun } from '../api/types';
import { StateBadge } from '../ui/StateBadge';

// The run detail lists at most this many (runs/serializers.py).
const MAX_CHILDREN = 200;

const runUrl = (id: number) => `/runs/${id}/`;
const editUrl = (slug: string) => `/workflows/${encodeURIComponent(slug)}/edit/`;

/** "Called by run #N" (and how deep, past one call), next to the run's call badge. */
export function CalledBy({ parentRun, depth }: { parentRun: number; depth: number }) {
  return (
    <span className="small" data-testid="run-parent">
      Called by{' '}
      <a href={runUrl(parentRun)} data-testid="run-parent-link">
        run #{parentRun}
      </a>
      {depth > 1 ? <span className="muted small"> · {depth} calls deep</span> : null}
    </span>
  );
}

/** The sub-workflow runs the run's steps (calls, maps over a workflow) started, oldest first. */
export function ChildRuns({ runs }: { runs: ChildRun[] }) {
  return (
    <section className="card table-card" aria-labelledby="children-title" data-testid="run-children">
      <div className="section-head">
        <h2 id="children-title">Sub-workflow runs</h2>
        <span className="muted small">
          {runs.length >= MAX_CHILDREN ? `The first ${MAX_CHILDREN} runs` : `${runs.length} ${runs.length === 1 ? 'run' : 'runs'}`} started by this run’s steps
        </span>
      </div>
      <table className="table">
        <thead>
          <tr>
            <th>Run</th>
            <th>Workflow</th>
            <th>Started by node</th>
            <th>State</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((child) => (
            <tr key={child.id} data-testid={`child-run-${child.id}`} data-state={child.state}>
              <td>
                <a href={runUrl(child.id)} data-testid={`child-run-link-${child.id}`}>
                  #{child.id}
                </a>
              </td>
              <td>
                <a href={editUrl(child.workflow)}>
                  <code>{child.workflow}</code>
                </a>
              </td>
              <td>{child.node_id === null ? <span className="muted">—</span> : <code>{child.node_id}</code>}</td>
              <td>
                <StateBadge state={child.state} testId={`child-run-state-${child.id}`} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
