/** One run: header and controls, calls in and out, the graph colored by step state, steps and attempts, events, live. */

import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { controlRun, getRunDetail, getRunGraph, type RunControl } from '../api/runs';
import type { ApiErrorItem, RunDetail, RunEvent, Workflow } from '../api/types';
import { getWorkflow, listVersions } from '../api/versions';
import { autoLayout, normalizeGraph, type WorkflowGraph } from '../graph';
import { useEventStream } from '../hooks/useEventStream';
import { useMe } from '../hooks/useMe';
import { useNow } from '../hooks/useNow';
import { ConnectionIndicator } from '../ui/ConnectionIndicator';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { formatDateTime, formatRelative, runDuration } from '../ui/format';
import { JsonTree } from '../ui/JsonTree';
import { denial } from '../ui/permissions';
import { StateBadge } from '../ui/StateBadge';
import { TriggerBadge } from '../ui/TriggerBadge';
import { controlView, type RunAction } from './actions';
import { RunLogs } from './logs/RunLogs';
import { receiveWaits } from './messages';
import { Reruns } from './Reruns';
import { RetryForm } from './RetryForm';
import { CalledBy, ChildRuns } from './RunFamily';
import { RunGraph } from './RunGraph';
import { StepsPanel } from './StepsPanel';
import { Timeline } from './Timeline';
import { failedNode, needsLayout, nodeStates, takenEdges, timelineAdd } from './view';

// Events come in bursts (a step finishing writes several): one reload per burst.
const REFRESH_AFTER_MS = 150;

const editUrl = (slug: string) => `/workflows/${encodeURIComponent(slug)}/edit/`;

export function RunPage({ runId }: { runId: number }) {
  const [run, setRun] = useState<RunDetail | null>(null);
  const [loadErrors, setLoadErrors] = useState<ApiErrorItem[]>([]);
  const [graph, setGraph] = useState<WorkflowGraph | null>(null);
  const [graphErrors, setGraphErrors] = useState<ApiErrorItem[]>([]);
  const [workflow, setWorkflow] = useState<Workflow | null>(null);
  const [versions, setVersions] = useState<number[]>([]);
  const [events, setEvents] = useState<readonly RunEvent[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [busy, setBusy] = useState<RunAction | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [retryOpen, setRetryOpen] = useState(false);
  const [actionErrors, setActionErrors] = useState<ApiErrorItem[]>([]);
  const now = useNow(1000);
  const me = useMe();
  const operateDenied = denial(me, 'operate', 'cancel, pause, resume or retry runs');
  const messageDenied = denial(me, 'operate', 'send messages to runs');

  // Responses apply in the order their requests were sent: a slow old one never
  // overwrites a newer one.
  const sent = useRef(0);
  const applied = useRef(0);
  const apply = useCallback((order: number, detail: RunDetail) => {
    if (order <= applied.current) return;
    applied.current = order;
    setRun(detail);
  }, []);

  const refresh = useCallback(() => {
    const order = ++sent.current;
    getRunDetail(runId).then(
      (detail) => {
        apply(order, detail);
        setLoadErrors([]);
      },
      (error: unknown) => {
        if (order > applied.current) setLoadErrors(errorItems(error));
      },
    );
  }, [runId, apply]);

  useEffect(() => refresh(), [refresh]);

  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const scheduleRefresh = useCallback(() => {
    if (timer.current !== null) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      refresh();
    }, REFRESH_AFTER_MS);
  }, [refresh]);
  useEffect(() => () => {
    if (timer.current !== null) clearTimeout(timer.current);
  }, []);

  const onEvent = useCallback(
    (event: RunEvent) => {
      setEvents((prev) => timelineAdd(prev, event));
      scheduleRefresh();
    },
    [scheduleRefresh],
  );
  const status = useEventStream({ path: `/ws/runs/${runId}/`, after: 0, enabled: run !== null, onEvent });

  const slug = run?.workflow ?? null;
  const graphRunId = run?.id ?? null;

  useEffect(() => {
    if (graphRunId === null) return undefined;
    const controller = new AbortController();
    // The run's own graph: a test run's frozen draft may differ from the draft now.
    getRunGraph(graphRunId, controller.signal).then(
      (detail) => {
        try {
          const parsed = normalizeGraph(detail.graph);
          setGraph(needsLayout(parsed) ? autoLayout(parsed) : parsed);
          setGraphErrors([]);
        } catch (error) {
          setGraphErrors(errorItems(error));
        }
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setGraphErrors(errorItems(error));
      },
    );
    return () => controller.abort();
  }, [graphRunId]);

  useEffect(() => {
    if (slug === null) return undefined;
    const controller = new AbortController();
    getWorkflow(slug, controller.signal).then(setWorkflow, () => undefined);
    listVersions(slug, controller.signal).then(
      (page) => setVersions(page.results.filter((v) => v.status !== 'draft').map((v) => v.number).sort((a, b) => b - a)),
      () => undefined,
    );
    return () => controller.abort();
  }, [slug]);

  const states = useMemo(() => nodeStates(run?.steps ?? []), [run]);
  const taken = useMemo(() => takenEdges(run?.steps ?? []), [run]);
  const waits = useMemo(() => receiveWaits(events), [events]);

  const control = async (action: RunControl) => {
    if (run === null) return;
    setBusy(action);
    setActionErrors([]);
    const order = ++sent.current;
    try {
      apply(order, await controlRun(run.id, action));
    } catch (error) {
      setActionErrors(errorItems(error));
      refresh(); // The refusal means the page is behind: catch up.
    } finally {
      setBusy(null);
      setConfirmCancel(false);
    }
  };

  const onSelect = useCallback((nodeId: string | null) => {
    setSelected(nodeId);
    if (nodeId === null) return;
    requestAnimationFrame(() => {
      document.querySelector(`[data-node-id="${CSS.escape(nodeId)}"].step-row`)?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    });
  }, []);

  if (run === null) {
    return (
      <div className="page-body">
        <ErrorList errors={loadErrors} testId="run-errors" />
        {loadErrors.length === 0 ? <p className="muted">Loading run #{runId}…</p> : null}
        <p>
          <a href="/board/">Back to the board</a>
        </p>
      </div>
    );
  }

  const enabled = (action: RunAction) => busy === null && controlView(action, run.state, operateDenied).allowed;
  const title = (action: RunAction) => controlView(action, run.state, operateDenied).reason;

  return (
    <div className="page-body run-page" data-testid="run-page" data-run-id={run.id} data-state={run.state}>
      <header className="card run-header">
        <div className="run-title-line">
          <div className="run-title">
            <a href="/board/" className="muted small back">
              ← Board
            </a>
            <h1>Run #{run.id}</h1>
            <StateBadge state={run.state} testId="run-state" />
          </div>
          <ConnectionIndicator status={status} />
        </div>
        <dl className="run-facts">
          <div>
            <dt>Workflow</dt>
            <dd>
              <a href={editUrl(run.workflow)} data-testid="run-workflow">
                {run.workflow_name || run.workflow}
              </a>{' '}
              <code>{run.workflow}</code>
            </dd>
          </div>
          <div>
            <dt>Started by</dt>
            <dd>
              {run.parent_run !== null ? (
                <span className="trigger-line">
                  <TriggerBadge trigger={run.trigger} triggerAt={run.trigger_at} workflow={run.workflow} testId="run-trigger" />
                  <CalledBy parentRun={run.parent_run} depth={run.call_depth} />
                </span>
              ) : (
                <TriggerBadge trigger={run.trigger} triggerAt={run.trigger_at} workflow={run.workflow} withSlot testId="run-trigger" />
              )}
            </dd>
          </div>
          <div>
            <dt>Version</dt>
            <dd data-testid="run-version">
              v{run.version}
              {run.trigger === 'test' ? <span className="muted small"> (test of the draft)</span> : null}
              {workflow?.live_version === run.version && run.trigger !== 'test' ? <span className="muted small"> (live)</span> : null}
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd title={formatDateTime(run.created_at)}>{formatRelative(run.created_at, now)}</dd>
          </div>
          <div>
            <dt>Started</dt>
            <dd title={formatDateTime(run.started_at)}>{run.started_at ? formatDateTime(run.started_at) : '—'}</dd>
          </div>
          <div>
            <dt>Finished</dt>
            <dd title={formatDateTime(run.finished_at)}>{run.finished_at ? formatDateTime(run.finished_at) : '—'}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd className="numeric">{runDuration(run, now)}</dd>
          </div>
        </dl>
        {run.error ? (
          <div className="run-error-box" data-testid="run-error" role="status">
            <span className="error-type">{run.error.type}</span> {run.error.message}
          </div>
        ) : null}
        <div className="run-actions actions">
          {confirmCancel ? (
            <span className="confirm" data-testid="cancel-confirm">
              Cancel this run? Running steps stop and compensation does not run.{' '}
              <button
                type="button"
                className="btn btn-danger-solid"
                disabled={!enabled('cancel')}
                onClick={() => void control('cancel')}
                data-testid="run-action-cancel-confirm"
              >
                {busy === 'cancel' ? 'Cancelling…' : 'Yes, cancel the run'}
              </button>
              <button type="button" className="btn" onClick={() => setConfirmCancel(false)}>
                Keep it
              </button>
            </span>
          ) : (
            <button
              type="button"
              className="btn btn-danger"
              disabled={!enabled('cancel')}
              title={title('cancel')}
              onClick={() => setConfirmCancel(true)}
              data-testid="run-action-cancel"
            >
              Cancel
            </button>
          )}
          <button
            type="button"
            className="btn"
            disabled={!enabled('pause')}
            title={title('pause')}
            onClick={() => void control('pause')}
            data-testid="run-action-pause"
          >
            {busy === 'pause' ? 'Pausing…' : 'Pause'}
          </button>
          <button
            type="button"
            className="btn"
            disabled={!enabled('resume')}
            title={title('resume')}
            onClick={() => void control('resume')}
            data-testid="run-action-resume"
          >
            {busy === 'resume' ? 'Resuming…' : 'Resume'}
          </button>
          <button
            type="button"
            className="btn btn-secondary"
            disabled={!enabled('retry')}
            title={title('retry')}
            onClick={() => setRetryOpen((open) => !open)}
            aria-expanded={retryOpen}
            data-testid="run-action-retry"
          >
            Retry from failure…
          </button>
          <a className="btn btn-link" href={`/api/v1/runs/${run.id}/`}>
            JSON
          </a>
        </div>
        <ErrorList errors={actionErrors} testId="run-action-errors" />
      </header>

      {retryOpen && controlView('retry', run.state, operateDenied).allowed ? (
        <RetryForm
          run={run}
          nodes={graph?.nodes ?? []}
          versions={versions}
          liveVersion={workflow?.live_version ?? null}
          failedNode={failedNode(run.steps)}
          onDone={(detail) => {
            apply(++sent.current, detail);
            setRetryOpen(false);
          }}
          onClose={() => setRetryOpen(false)}
        />
      ) : null}

      {run.children.length > 0 ? <ChildRuns runs={run.children} /> : null}

      <section className="card run-graph-card" aria-labelledby="graph-title">
        <div className="section-head">
          <h2 id="graph-title">Graph · v{run.version}</h2>
          <Legend />
        </div>
        <ErrorList errors={graphErrors} testId="graph-errors" />
        {graph ? (
          <RunGraph graph={graph} states={states} taken={taken} selected={selected} onSelect={onSelect} />
        ) : graphErrors.length === 0 ? (
          <p className="muted">Loading the graph…</p>
        ) : null}
      </section>

      <section className="card table-card" aria-labelledby="steps-title">
        <div className="section-head">
          <h2 id="steps-title">Steps and attempts</h2>
          {selected ? (
            <button type="button" className="btn btn-link btn-small" onClick={() => setSelected(null)}>
              Clear selection ({selected})
            </button>
          ) : (
            <span className="muted small">Click a node in the graph to find its steps.</span>
          )}
        </div>
        <StepsPanel runId={run.id} steps={run.steps} graph={graph} selected={selected} now={now} waits={waits} operateDenied={messageDenied} seeded={run.seeded} />
      </section>

      <RunLogs runId={run.id} />

      <div className="run-lower">
        <section className="card run-timeline-card" aria-labelledby="timeline-title">
          <div className="section-head">
            <h2 id="timeline-title">Events</h2>
          </div>
          <Timeline events={events} loaded={status === 'live' || events.length > 0} />
        </section>
        <div className="run-io">
          <section className="card" aria-labelledby="input-title" data-testid="run-input">
            <h2 id="input-title">Input</h2>
            <JsonTree value={run.input} testId="run-input-json" />
          </section>
          <section className="card" aria-labelledby="output-title" data-testid="run-output">
            <h2 id="output-title">Output</h2>
            {run.output === null || run.output === undefined ? (
              <p className="muted">{run.finished_at ? 'No output.' : 'No output yet: the run has not finished.'}</p>
            ) : (
              <JsonTree value={run.output} testId="run-output-json" />
            )}
          </section>
        </div>
      </div>

      <Reruns reruns={run.reruns} />
    </div>
  );
}

const LEGEND: [string, string][] = [
  ['running', 'running'],
  ['succeeded', 'succeeded'],
  ['failed', 'failed'],
  ['retry_wait', 'retry wait / waiting'],
  ['unvisited', 'not reached'],
];

function Legend() {
  return (
    <span className="run-legend small">
      {LEGEND.map(([state, label]) => (
        <span key={state} className="legend-item">
          <span className={`legend-dot legend-${state}`} aria-hidden="true" />
          {label}
        </span>
      ))}
    </span>
  );
}
