/** The board's retention card: per workflow, how long runs are kept, how many are due and pruned. */

import { useEffect, useState } from 'react';
import { isAbortError } from '../api/client';
import { getRetention, keepLabel, type RetentionRow } from '../api/retention';
import { formatDateTime, formatRelative } from '../ui/format';

// The pruning job runs every minute; the card follows it at that pace.
const REFRESH_EVERY_MS = 60_000;

export function RetentionCard({ now }: { now: number }) {
  const [rows, setRows] = useState<RetentionRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    const load = () => {
      getRetention(controller.signal)
        .then((body) => {
          setRows(body.results);
          setError(null);
        })
        .catch((reason: unknown) => {
          if (!isAbortError(reason)) setError('Retention counts could not be loaded.');
        });
    };
    load();
    const timer = setInterval(load, REFRESH_EVERY_MS);
    return () => {
      clearInterval(timer);
      controller.abort();
    };
  }, []);

  return (
    <section className="card feed" data-testid="retention-card" aria-labelledby="retention-title">
      <div className="section-head">
        <h2 id="retention-title">Retention</h2>
        <span className="muted small">pruned every minute</span>
      </div>
      {error ? <p className="muted small">{error}</p> : null}
      {rows !== null && rows.length === 0 ? (
        <p className="feed-empty muted" data-testid="retention-empty">
          Every workflow keeps its runs. Set “keep finished runs” in a workflow’s settings to prune old ones.
        </p>
      ) : null}
      {rows !== null && rows.length > 0 ? (
        <ol className="feed-list">
          {rows.map((row) => (
            <li key={row.workflow} className="feed-item" data-testid={`retention-${row.workflow}`}>
              <div className="feed-line">
                <a className="feed-title" href={`/workflows/${encodeURIComponent(row.workflow)}/edit/`}>
                  {row.workflow_name || row.workflow}
                </a>
                <span className="muted small">{keepLabel(row)}</span>
              </div>
              <div className="feed-where small">
                <span data-testid={`retention-${row.workflow}-due`}>
                  {row.due.toLocaleString()}
                  {row.due_capped ? '+' : ''} due
                </span>
                <span className="muted"> · </span>
                <span data-testid={`retention-${row.workflow}-pruned`}>{row.pruned_total.toLocaleString()} pruned</span>
                {row.last_pruned_at ? (
                  <span className="muted" title={formatDateTime(row.last_pruned_at)}>
                    {' '}
                    · last {formatRelative(row.last_pruned_at, now)}
                  </span>
                ) : null}
              </div>
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}
