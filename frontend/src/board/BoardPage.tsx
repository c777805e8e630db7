/** Show recent runs and follow them live over the board WebSocket. */

import { useCallback, useEffect, useMemo, useReducer, useState } from 'react';
import type { StreamStatus } from '../api/eventStream';
import { getRun, listRuns } from '../api/runs';
import { RUN_STATES, type ApiErrorItem, type RunEvent } from '../api/types';
import { useEventStream } from '../hooks/useEventStream';
import { useNow } from '../hooks/useNow';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { formatDateTime, formatRelative, runDuration, stateLabel } from '../ui/format';
import { StateBadge } from '../ui/StateBadge';
import {
  boardReducer,
  boardRuns,
  countByState,
  filterRuns,
  initialBoardState,
  workflowsOnBoard,
  type BoardFilter,
  type BoardRun,
  type StateCounts,
} from './state';

const INITIAL_LIMIT = 100;

export function BoardPage() {
  const [state, dispatch] = useReducer(boardReducer, initialBoardState);
  const [loadErrors, setLoadErrors] = useState<ApiErrorItem[]>([]);
  const [filter, setFilter] = useState<BoardFilter>({ workflow: '', state: '' });
  const now = useNow(1000);

  useEffect(() => {
    const controller = new AbortController();
    listRuns(INITIAL_LIMIT, controller.signal).then(
      (page) => dispatch({ type: 'loaded', runs: page.results, lastEventId: page.last_event_id ?? 0 }),
      (error: unknown) => {
        if (!controller.signal.aborted) setLoadErrors(errorItems(error));
      },
    );
    return () => controller.abort();
  }, []);

  const onEvent = useCallback((event: RunEvent) => dispatch({ type: 'event', event }), []);
  const status = useEventStream({
    path: '/ws/board/',
    after: state.lastEventId,
    enabled: state.loaded,
    onEvent,
  });

  // Runs the board heard of but has not seen: GET each once.
  useEffect(() => {
    if (state.toFetch.length === 0) return;
    const ids = state.toFetch;
    dispatch({ type: 'fetchStarted', ids });
    for (const id of ids) {
      getRun(id).then(
        (run) => dispatch({ type: 'fetched', run }),
        () => dispatch({ type: 'fetchFailed', id }),
      );
    }
  }, [state.toFetch]);

  const runs = useMemo(() => boardRuns(state), [state]);
  const counts = useMemo(() => countByState(runs), [runs]);
  const workflows = useMemo(() => workflowsOnBoard(runs), [runs]);
  const visible = useMemo(() => filterRuns(runs, filter), [runs, filter]);

  return (
    <div className="page-body">
      <header className="page-header">
        <h1>Board</h1>
        <ConnectionIndicator status={status} loaded={state.loaded} />
      </header>

      <Counters counts={counts} />

      <div className="toolbar filters">
        <label>
          Workflow{' '}
          <select
            value={filter.workflow}
            onChange={(e) => setFilter({ ...filter, workflow: e.target.value })}
            data-testid="filter-workflow"
          >
            <option value="">All workflows</option>
            {workflows.map(([slug, name]) => (
              <option key={slug} value={slug}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          State{' '}
          <select
            value={filter.state}
            onChange={(e) => setFilter({ ...filter, state: e.target.value })}
            data-testid="filter-state"
          >
            <option value="">All states</option>
            {RUN_STATES.map((s) => (
              <option key={s} value={s}>
                {stateLabel(s)}
              </option>
            ))}
          </select>
        </label>
        {state.loaded && runs.length > 0 ? (
          <span className="muted small">
            Showing {visible.length} of {runs.length} recent runs
          </span>
        ) : null}
      </div>

      <ErrorList errors={loadErrors} testId="board-errors" />

      {!state.loaded ? (
        loadErrors.length === 0 ? <p className="muted">Loading runs…</p> : null
      ) : runs.length === 0 ? (
        <div className="empty card" data-testid="board-empty">
          <p>
            No runs yet — start one from <a href="/">Workflows</a>.
          </p>
        </div>
      ) : visible.length === 0 ? (
        <div className="empty card" data-testid="board-empty-filtered">
          <p>No runs match these filters.</p>
        </div>
      ) : (
        <RunTable runs={visible} now={now} />
      )}
    </div>
  );
}

const STATUS_TEXT: Record<StreamStatus, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  closed: 'disconnected — reload the page',
};

function ConnectionIndicator({ status, loaded }: { status: StreamStatus; loaded: boolean }) {
  const shown = loaded ? status : 'connecting';
  return (
    <span className={`connection connection-${shown}`} data-testid="connection-status" data-status={shown}>
      <span className="dot" aria-hidden="true" />
      {STATUS_TEXT[shown]}
    </span>
  );
}

const COUNTER_LABELS: [keyof StateCounts, string][] = [
  ['pending', 'Pending'],
  ['running', 'Running'],
  ['succeeded', 'Succeeded'],
  ['failed', 'Failed'],
  ['cancelled', 'Cancelled'],
  ['other', 'Others'],
];

function Counters({ counts }: { counts: StateCounts }) {
  return (
    <div className="counters">
      {COUNTER_LABELS.map(([key, label]) => (
        <div key={key} className={`counter counter-${key}`} data-testid={`count-${key}`}>
          <span className="counter-value">{counts[key]}</span>
          <span className="counter-label">{label}</span>
        </div>
      ))}
    </div>
  );
}

function RunTable({ runs, now }: { runs: BoardRun[]; now: number }) {
  return (
    <div className="card table-card">
      <table className="table runs-table">
        <thead>
          <tr>
            <th>Run</th>
            <th>Workflow</th>
            <th>Version</th>
            <th>State</th>
            <th>Started</th>
            <th>Duration</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.id} data-testid={`run-row-${run.id}`} data-state={run.state}>
              <td>
                <a href={`/runs/${run.id}/`}>#{run.id}</a>
              </td>
              <td>
                {run.workflow_name || run.workflow}
                {run.workflow_name && run.workflow_name !== run.workflow ? (
                  <div className="muted small">{run.workflow}</div>
                ) : null}
              </td>
              <td>{run.version ? `v${run.version}` : '—'}</td>
              <td>
                <StateBadge state={run.state} testId={`run-state-${run.id}`} />
              </td>
              <td title={formatDateTime(run.started_at ?? run.created_at)}>
                {run.started_at ? (
                  formatRelative(run.started_at, now)
                ) : (
                  <span className="muted">not started</span>
                )}
              </td>
              <td className="numeric">{runDuration(run, now)}</td>
              <td className="error-cell">
                {run.error ? (
                  <span title={run.error.type}>
                    <span className="error-type">{run.error.type}</span> {run.error.message}
                  </span>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
