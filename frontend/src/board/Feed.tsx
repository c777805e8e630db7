/** One of the board's event feeds (retries, handoffs, releases). */

import { formatDateTime, formatRelative } from '../ui/format';
import type { FeedItem } from './feed';

export function Feed({ title, items, now, testId, empty }: { title: string; items: FeedItem[]; now: number; testId: string; empty: string }) {
  return (
    <section className="card feed" data-testid={testId} aria-labelledby={`${testId}-title`}>
      <div className="section-head">
        <h2 id={`${testId}-title`}>{title}</h2>
        <span className="muted small">{items.length > 0 ? `${items.length} event${items.length === 1 ? '' : 's'}` : 'live'}</span>
      </div>
      {items.length === 0 ? (
        <p className="feed-empty muted" data-testid={`${testId}-empty`}>
          {empty}
        </p>
      ) : (
        <ol className="feed-list">
          {items.map((item) => (
            <li
              key={item.id}
              className={`feed-item tone-${item.tone}${item.automatic ? ' is-automatic' : ''}`}
              data-testid={`${testId}-${item.id}`}
              data-kind={item.kind}
              data-automatic={item.automatic ? 'true' : undefined}
            >
              <div className="feed-line">
                <span className="feed-title">
                  {item.automatic ? <span className="feed-badge">automatic</span> : null}
                  {item.title}
                </span>
                <span className="muted small" title={formatDateTime(item.createdAt)}>
                  {formatRelative(item.createdAt, now)}
                </span>
              </div>
              <div className="feed-where small">
                {item.runId !== null ? <a href={`/runs/${item.runId}/`}>run #{item.runId}</a> : null}
                {item.workflow && item.runId !== null ? <span className="muted"> · {item.workflow}</span> : null}
                {item.workflow && item.runId === null ? (
                  // A release event is about the workflow itself: open it in the editor.
                  <a href={`/workflows/${encodeURIComponent(item.workflow)}/edit/`}>{item.workflow}</a>
                ) : null}
                {item.nodeId ? (
                  <span className="muted">
                    {' '}
                    · <code>{item.nodeId}</code>
                  </span>
                ) : null}
              </div>
              {item.detail ? <div className="feed-detail small">{item.detail}</div> : null}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
