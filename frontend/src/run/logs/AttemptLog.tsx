/** One attempt's log: a toggle, then its lines (live while it runs) with follow mode and the truncation marker. */

import { useState } from 'react';
import type { AttemptDetail } from '../../api/types';
import { LogView } from './LogView';
import { useAttemptLog } from './useAttemptLog';

// States in which an attempt may still write lines.
const LIVE_STATES = new Set(['queued', 'running']);

export function AttemptLog({ runId, attempt }: { runId: number; attempt: AttemptDetail }) {
  // Open by itself once seen running; the user's choice wins after that.
  const [chosen, setChosen] = useState<boolean | null>(null);
  const [seenRunning, setSeenRunning] = useState(attempt.state === 'running');
  if (attempt.state === 'running' && !seenRunning) setSeenRunning(true);
  const open = chosen ?? seenRunning;
  const [follow, setFollow] = useState(true);
  const live = LIVE_STATES.has(attempt.state);
  const log = useAttemptLog(runId, attempt.id, open, live);
  const count = log.lines.length;
  const id = attempt.id;

  return (
    <div
      className="attempt-log"
      data-testid={`attempt-log-${id}`}
      data-open={open}
      data-lines={count}
      data-done={log.done}
      data-follow={follow}
    >
      <div className="attempt-log-head">
        <button
          type="button"
          className="btn btn-link btn-small"
          aria-expanded={open}
          onClick={() => setChosen(!open)}
          data-testid={`attempt-log-toggle-${id}`}
        >
          {open ? '▾' : '▸'} Log of attempt {attempt.number}
        </button>
        {open ? (
          <span className="muted small" data-testid={`attempt-log-count-${id}`}>
            {count.toLocaleString()} {count === 1 ? 'line' : 'lines'}
            {log.done ? '' : live ? ' · live' : ''}
          </span>
        ) : null}
        {open && count > 0 ? (
          <label className="attempt-log-follow small">
            <input
              type="checkbox"
              checked={follow}
              onChange={(event) => setFollow(event.target.checked)}
              data-testid={`attempt-log-follow-${id}`}
            />{' '}
            Follow
          </label>
        ) : null}
      </div>
      {open ? (
        <>
          {log.error ? (
            <p className="hint log-error" role="status">
              Cannot read the log: {log.error}
            </p>
          ) : null}
          {count > 0 ? (
            <LogView
              lines={log.lines}
              numbers={log.numbers}
              marker={log.marker}
              follow={follow}
              onFollowChange={setFollow}
              testId={`attempt-log-lines-${id}`}
            />
          ) : (
            <p className="muted small">{log.done ? 'No lines.' : 'No lines yet.'}</p>
          )}
          {log.marker !== null ? (
            <p className="log-truncated small" data-testid={`attempt-log-truncated-${id}`}>
              {log.marker}
            </p>
          ) : null}
        </>
      ) : null}
    </div>
  );
}
