/** The run's steps in the order they ran, each with its attempts, errors and output; a waiting receive with what it waits for; a map's items. */

import { Fragment } from 'react';
import type { AttemptDetail, StepDetail, StepError } from '../api/types';
import type { WorkflowGraph } from '../graph';
import { formatDateTime, formatDuration, formatSeconds } from '../ui/format';
import { JsonTree } from '../ui/JsonTree';
import { StateBadge } from '../ui/StateBadge';
import { AttemptLogs } from './logs/AttemptLogs';
import { MapItems } from './MapItems';
import { MessageForm } from './MessageForm';
import { describeWait, isWaitingReceive, receiveWaitOf, type ReceiveWait } from './messages';
import { elapsedMs, orderedSteps } from './view';

interface StepsPanelProps {
  runId: number;
  steps: StepDetail[];
  graph: WorkflowGraph | null;
  selected: string | null;
  now: number;
  /** What receive steps wait for, from their events: {step_id: wait}. */
  waits: ReadonlyMap<number, ReceiveWait>;
  /** Why the user may not send messages, or null. */
  operateDenied: string | null;
  /** A test run's steps copied from an earlier run: {step id: that run's id}. */
  seeded?: Record<string, number>;
}

export function StepsPanel({ runId, steps, graph, selected, now, waits, operateDenied, seeded }: StepsPanelProps) {
  if (steps.length === 0) {
    return (
      <div className="empty" data-testid="steps-empty">
        <p>No step has started yet.</p>
      </div>
    );
  }
  const labels = new Map((graph?.nodes ?? []).map((n) => [n.id, typeof n.label === 'string' ? n.label : '']));
  const byId = new Map(steps.map((s) => [s.id, s]));
  return (
    <table className="table steps-table" data-testid="steps">
      <thead>
        <tr>
          <th>Node</th>
          <th>Type</th>
          <th>State</th>
          <th>Started</th>
          <th>Duration</th>
          <th>Attempts</th>
          <th>Error</th>
        </tr>
      </thead>
      <tbody>
        {orderedSteps(steps).map((step) => {
          const label = labels.get(step.node_id);
          const compensated = step.compensates !== null ? byId.get(step.compensates) : undefined;
          const isSelected = selected === step.node_id;
          const wait = isWaitingReceive(step) ? receiveWaitOf(step, waits, graph) : null;
          return (
            <Fragment key={step.id}>
              <tr
                className={`step-row${isSelected ? ' is-selected' : ''}`}
                data-testid={`step-${step.node_id}-${step.seq}`}
                data-node-id={step.node_id}
                data-state={step.state}
              >
                <td>
                  <span className="row-title">{label || step.node_id}</span>
                  {label ? <code className="step-id">{step.node_id}</code> : null}
                  {step.seq > 1 ? <span className="muted small"> · visit {step.seq}</span> : null}
                  {step.compensates !== null ? (
                    <div className="muted small">compensates {compensated ? compensated.node_id : `step ${step.compensates}`}</div>
                  ) : null}
                </td>
                <td className="muted">{step.node_type}</td>
                <td>
                  <StateBadge state={step.state} testId={`step-state-${step.id}`} />
                  {wait !== null ? (
                    <div className="muted small step-wait" data-testid={`step-receive-${step.id}`}>
                      {describeWait(wait)}
                    </div>
                  ) : step.state === 'waiting' && step.wake_at ? (
                    <div className="muted small" title={formatDateTime(step.wake_at)}>
                      wakes {new Date(step.wake_at).toLocaleTimeString()}
                    </div>
                  ) : null}
                  {step.handoff ? (
                    <div className="muted small" data-testid={`step-handoff-${step.id}`}>
                      {step.handoff.outcome
                        ? `outcome ${step.handoff.outcome}`
                        : `handoff ${step.handoff.state} · ${step.handoff.to.kind} ${step.handoff.to.name}`}{' '}
                      · <a href="/handoffs/">inbox</a>
                    </div>
                  ) : null}
                </td>
                <td title={formatDateTime(step.started_at ?? step.created_at)}>
                  {step.started_at ? (
                    new Date(step.started_at).toLocaleTimeString()
                  ) : seeded?.[String(step.id)] !== undefined ? (
                    <span className="muted small" data-testid="step-seeded">
                      copied from <a href={`/runs/${seeded[String(step.id)]}/`}>run #{seeded[String(step.id)]}</a>
                    </span>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
                <td className="numeric">{stepDuration(step, now)}</td>
                <td className="numeric">{step.attempts.length || '—'}</td>
                <td className="error-cell">
                  {step.error === null ? null : step.state === 'succeeded' ? (
                    <span className="muted recovered" title="An earlier attempt failed; a retry succeeded">
                      recovered
                    </span>
                  ) : (
                    <ErrorText error={step.error} />
                  )}
                </td>
              </tr>
              {step.attempts.length > 0 || step.output !== null || wait !== null || step.map ? (
                <tr className="panel-row step-detail-row">
                  <td colSpan={7}>
                    {step.map ? <MapItems runId={runId} stepId={step.id} summary={step.map} /> : null}
                    {step.attempts.length > 0 ? <AttemptsTable attempts={step.attempts} now={now} /> : null}
                    {step.attempts.length > 0 ? <AttemptLogs runId={runId} attempts={step.attempts} /> : null}
                    {wait === null ? null : operateDenied === null ? (
                      // What it waits for may become known after the form shows (events come in): start it again then.
                      <MessageForm key={`${wait.message}|${wait.key}`} wait={wait} stepId={step.id} />
                    ) : (
                      <p className="hint" data-testid={`message-denied-${step.id}`}>
                        {operateDenied}
                      </p>
                    )}
                    {step.output !== null && step.output !== undefined ? (
                      <details className="step-output">
                        <summary>Output</summary>
                        <JsonTree value={step.output} openDepth={1} testId={`step-output-${step.id}`} />
                      </details>
                    ) : null}
                  </td>
                </tr>
              ) : null}
            </Fragment>
          );
        })}
      </tbody>
    </table>
  );
}

function stepDuration(step: StepDetail, now: number): string {
  if (!step.started_at) return '—';
  const ms = elapsedMs(step.started_at, step.finished_at ?? new Date(now).toISOString());
  return ms === null ? '—' : formatDuration(Math.max(0, ms));
}

function ErrorText({ error }: { error: StepError }) {
  const type = typeof error.type === 'string' ? error.type : 'Error';
  const message = typeof error.message === 'string' ? error.message : '';
  return (
    <span title={`${type}: ${message}`}>
      <span className="error-type">{type}</span> {message}
    </span>
  );
}

function AttemptsTable({ attempts, now }: { attempts: AttemptDetail[]; now: number }) {
  return (
    <table className="attempts-table">
      <thead>
        <tr>
          <th>#</th>
          <th>State</th>
          <th>Queue</th>
          <th>Due / enqueued</th>
          <th>Queue delay</th>
          <th>Ran for</th>
          <th>Worker</th>
          <th>Error</th>
        </tr>
      </thead>
      <tbody>
        {attempts.map((attempt) => {
          const ran = attempt.started_at
            ? elapsedMs(attempt.started_at, attempt.finished_at ?? new Date(now).toISOString())
            : null;
          return (
            <tr key={attempt.id} data-testid={`attempt-${attempt.id}`} data-state={attempt.state} data-number={attempt.number}>
              <td className="numeric">{attempt.number}</td>
              <td>
                <StateBadge state={attempt.state} />
              </td>
              <td>
                <code>{attempt.queue}</code>
                {attempt.priority ? <span className="muted small"> · prio {attempt.priority}</span> : null}
              </td>
              <td className="muted small" title={`due ${formatDateTime(attempt.due_at)}, enqueued ${formatDateTime(attempt.enqueued_at)}`}>
                {attempt.enqueued_at ? new Date(attempt.enqueued_at).toLocaleTimeString() : attempt.due_at ? `due ${new Date(attempt.due_at).toLocaleTimeString()}` : '—'}
                {attempt.publish_count > 1 ? <span title="Published again by the sweeper"> · sent {attempt.publish_count}×</span> : null}
              </td>
              <td className="numeric" data-testid={`attempt-delay-${attempt.id}`}>
                {attempt.queue_delay_s === null ? <span className="muted">—</span> : formatSeconds(attempt.queue_delay_s)}
              </td>
              <td className="numeric">{ran === null ? <span className="muted">—</span> : formatDuration(Math.max(0, ran))}</td>
              <td className="muted small worker-cell" title={attempt.worker ?? ''}>
                {attempt.worker || '—'}
              </td>
              <td className="error-cell">{attempt.error ? <ErrorText error={attempt.error} /> : null}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
