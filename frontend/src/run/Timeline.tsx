/** The run's events, newest first, filterable by what they are about. */

import { useMemo, useState } from 'react';
import type { RunEvent } from '../api/types';
import { formatClock, formatDateTime } from '../ui/format';
import { eventChange, eventSubject } from './view';

type Subject = ReturnType<typeof eventSubject>;

const SUBJECTS: { key: Subject; label: string }[] = [
  { key: 'run', label: 'Run' },
  { key: 'step', label: 'Steps' },
  { key: 'attempt', label: 'Attempts' },
  { key: 'other', label: 'Other' },
];

const SHOWN = 200;

export function Timeline({ events, loaded }: { events: readonly RunEvent[]; loaded: boolean }) {
  const [hidden, setHidden] = useState<ReadonlySet<Subject>>(new Set());
  const [all, setAll] = useState(false);
  const visible = useMemo(
    () => events.filter((e) => !hidden.has(eventSubject(e))).reverse(),
    [events, hidden],
  );
  const shown = all ? visible : visible.slice(0, SHOWN);

  const toggle = (key: Subject) =>
    setHidden((prev) => {
      const next = new Set(prev);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });

  return (
    <div className="timeline" data-testid="timeline" data-count={events.length}>
      <div className="toolbar timeline-tools">
        {SUBJECTS.map(({ key, label }) => (
          <label key={key} className="check">
            <input type="checkbox" checked={!hidden.has(key)} onChange={() => toggle(key)} /> {label}
          </label>
        ))}
        <span className="muted small">
          {visible.length} of {events.length} events
        </span>
      </div>
      {!loaded ? (
        <p className="muted">Loading events…</p>
      ) : shown.length === 0 ? (
        <p className="muted" data-testid="timeline-empty">
          {events.length === 0 ? 'No events yet.' : 'No events of the kinds shown.'}
        </p>
      ) : (
        <ol className="timeline-list">
          {shown.map((event) => (
            <li
              key={event.id}
              className={`timeline-item subject-${eventSubject(event)}`}
              data-testid={`event-${event.id}`}
              data-kind={event.kind}
            >
              <time className="timeline-time" dateTime={event.created_at} title={formatDateTime(event.created_at)}>
                {formatClock(event.created_at)}
              </time>
              <span className={`timeline-kind kind-${event.to_state ?? 'none'}`}>{event.kind}</span>
              <span className="timeline-what">
                {event.node_id ? <code>{event.node_id}</code> : null}
                {eventChange(event) ? <span className="timeline-change">{eventChange(event)}</span> : null}
                {event.reason ? <span className="timeline-reason">{event.reason}</span> : null}
              </span>
              <span className="timeline-actor muted small">{event.actor}</span>
            </li>
          ))}
        </ol>
      )}
      {!all && visible.length > SHOWN ? (
        <button type="button" className="btn btn-small" onClick={() => setAll(true)}>
          Show all {visible.length} events
        </button>
      ) : null}
    </div>
  );
}
