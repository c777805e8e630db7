/** One handoff in the inbox: what it is, its SLA and context, and the actions on it. */

import { useState } from 'react';
import { ApiError } from '../api/client';
import {
  claimHandoff,
  completeHandoff,
  reassignHandoff,
  releaseHandoff,
  type AssigneeKind,
  type Handoff,
  type HandoffAction,
} from '../api/handoffs';
import type { ApiErrorItem } from '../api/types';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { formatDateTime, formatRelative, stateLabel } from '../ui/format';
import { JsonTree } from '../ui/JsonTree';
import { StateBadge } from '../ui/StateBadge';
import { actionViews, ASSIGNEE_KINDS, canAct, completeProblem, reassignProblem, staleAfter } from './actions';
import { assigneeLabel, dueInfo, handoffTitle, isActive, isOverdue, personLabel, type GroupId } from './view';

export interface Notice {
  text: string;
  runId: number | null;
}

interface HandoffCardProps {
  handoff: Handoff;
  /** The group it is listed in (view.ts `groupOf`). */
  group: GroupId;
  me: string;
  /** Why the user's role may not work handoffs, or null when it may. */
  roleDenial: string | null;
  now: number;
  onUpdated: (handoff: Handoff) => void;
  onStale: (id: number) => void;
  onNotice: (notice: Notice) => void;
}

type Form = 'complete' | 'reassign' | null;

export function HandoffCard({ handoff, group, me, roleDenial, now, onUpdated, onStale, onNotice }: HandoffCardProps) {
  const [form, setForm] = useState<Form>(null);
  const [busy, setBusy] = useState<HandoffAction | null>(null);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const id = handoff.id;
  const title = handoffTitle(handoff);
  const active = isActive(handoff);
  const overdue = isOverdue(handoff, now);
  const due = dueInfo(handoff, now);

  const act = async (action: HandoffAction, call: () => Promise<Handoff>, done?: (h: Handoff) => string) => {
    setBusy(action);
    setErrors([]);
    try {
      const updated = await call();
      onUpdated(updated);
      setForm(null);
      if (done) onNotice({ text: done(updated), runId: updated.run_id });
    } catch (error) {
      setErrors(errorItems(error));
      if (error instanceof ApiError && staleAfter(error.status)) onStale(id);
    } finally {
      setBusy(null);
    }
  };

  const toggle = (next: Form) => {
    setErrors([]);
    setForm((open) => (open === next ? null : next));
  };

  const onAction = (action: HandoffAction) => {
    switch (action) {
      case 'claim':
        void act('claim', () => claimHandoff(id));
        break;
      case 'release':
        void act('release', () => releaseHandoff(id));
        break;
      case 'complete':
      case 'reassign':
        toggle(action);
        break;
    }
  };

  const views = actionViews(handoff, me, roleDenial);
  const contextKeys = Object.keys(handoff.context ?? {});
  const contextErrors = Object.entries(handoff.context_errors ?? {});

  return (
    <article
      className={`card handoff-card state-${handoff.state}${overdue ? ' is-overdue' : ''}`}
      data-testid={`handoff-${id}`}
      data-state={handoff.state}
      data-overdue={overdue ? 'true' : 'false'}
      data-group={group}
      aria-labelledby={`handoff-${id}-title`}
    >
      <header className="handoff-head">
        <div className="handoff-title">
          <h3 id={`handoff-${id}-title`} data-testid={`handoff-title-${id}`}>
            {title}
          </h3>
          <StateBadge state={handoff.state} testId={`handoff-state-${id}`} />
          {overdue ? (
            <span className="badge badge-overdue" data-testid={`handoff-overdue-${id}`} title={`Was due ${formatDateTime(handoff.due_at)}`}>
              overdue
            </span>
          ) : null}
          {handoff.state === 'completed' && handoff.outcome ? (
            <span className="badge badge-outcome" data-testid={`handoff-outcome-${id}`}>
              {handoff.outcome}
            </span>
          ) : null}
        </div>
        {due.text ? (
          <span className={`due due-${due.tone}`} data-testid={`handoff-due-${id}`} title={handoff.due_at ? `Due ${formatDateTime(handoff.due_at)}` : undefined}>
            {due.text}
          </span>
        ) : null}
      </header>

      <dl className="handoff-facts">
        <div>
          <dt>Workflow</dt>
          <dd>
            {handoff.workflow_name || handoff.workflow} <span className="version">v{handoff.version}</span>
          </dd>
        </div>
        <div>
          <dt>Run</dt>
          <dd>
            <a href={`/runs/${handoff.run_id}/`} data-testid={`handoff-run-${id}`}>
              #{handoff.run_id}
            </a>{' '}
            {handoff.run_state && handoff.run_state !== 'running' ? <span className="muted small">({stateLabel(handoff.run_state)})</span> : null}
          </dd>
        </div>
        <div>
          <dt>Step</dt>
          <dd>
            <code>{handoff.node_id}</code>
          </dd>
        </div>
        <div>
          <dt>For</dt>
          <dd data-testid={`handoff-to-${id}`}>{assigneeLabel(handoff.to)}</dd>
        </div>
        {handoff.claimed_by && handoff.state === 'claimed' ? (
          <div>
            <dt>Claimed by</dt>
            <dd data-testid={`handoff-claimed-by-${id}`}>
              <strong>{personLabel(handoff.claimed_by, me)}</strong>{' '}
              <span className="muted small" title={formatDateTime(handoff.claimed_at)}>
                {formatRelative(handoff.claimed_at, now)}
              </span>
            </dd>
          </div>
        ) : null}
        {handoff.state === 'completed' ? (
          <div>
            <dt>Completed by</dt>
            <dd data-testid={`handoff-completed-by-${id}`}>
              {personLabel(handoff.completed_by, me)}{' '}
              <span className="muted small" title={formatDateTime(handoff.completed_at)}>
                {formatRelative(handoff.completed_at, now)}
              </span>
            </dd>
          </div>
        ) : null}
        <div>
          <dt>Opened</dt>
          <dd title={formatDateTime(handoff.created_at)}>{formatRelative(handoff.created_at, now)}</dd>
        </div>
        {handoff.escalated_at ? (
          <div>
            <dt>Escalated</dt>
            <dd title={formatDateTime(handoff.escalated_at)}>{formatRelative(handoff.escalated_at, now)}</dd>
          </div>
        ) : active && handoff.escalate_to && handoff.due_at ? (
          <div>
            <dt>Escalates to</dt>
            <dd>{assigneeLabel(handoff.escalate_to)}</dd>
          </div>
        ) : null}
        {handoff.verdict !== 'unreviewed' ? (
          <div>
            <dt>Review</dt>
            <dd className={`verdict verdict-${handoff.verdict}`}>{handoff.verdict}</dd>
          </div>
        ) : null}
      </dl>

      <div className={`handoff-body${active ? '' : ' is-finished'}`}>
        <div className="handoff-main">
          {handoff.instructions.trim() ? (
            <div className="handoff-instructions" data-testid={`handoff-instructions-${id}`}>
              {handoff.instructions}
            </div>
          ) : (
            <p className="muted small handoff-no-instructions">No instructions were given.</p>
          )}
          {handoff.state === 'completed' && handoff.note ? (
            <blockquote className="handoff-note" data-testid={`handoff-note-${id}`}>
              {handoff.note}
            </blockquote>
          ) : null}
          <Context handoff={handoff} keys={contextKeys} errors={contextErrors} />
        </div>

        {active ? (
          <aside className="handoff-actions" aria-label={`Actions on ${title}`}>
            <div className="actions">
              {views.map((view) => (
                <button
                  key={view.action}
                  type="button"
                  className={`btn btn-small${view.action === 'complete' ? ' btn-primary' : ''}${form === view.action ? ' is-on' : ''}`}
                  disabled={!view.enabled || busy !== null}
                  title={view.reason || undefined}
                  aria-expanded={view.action === 'complete' || view.action === 'reassign' ? form === view.action : undefined}
                  onClick={() => onAction(view.action)}
                  data-testid={`handoff-action-${view.action}-${id}`}
                >
                  {busy === view.action ? `${view.label.replace('…', '')}…` : view.label}
                </button>
              ))}
            </div>
            <p className="muted small outcome-list" data-testid={`handoff-outcomes-${id}`}>
              Outcomes:{' '}
              {handoff.outcomes.map((o, i) => (
                <span key={o}>
                  {i > 0 ? ' · ' : ''}
                  <strong>{o}</strong>
                </span>
              ))}
            </p>
            {!canAct(handoff) ? (
              <p className="muted small why-not" data-testid={`handoff-why-not-${id}`}>
                {views.find((v) => v.action === 'complete')?.reason}
              </p>
            ) : null}
            {form === 'complete' && handoff.can.complete ? (
              <CompleteForm
                handoff={handoff}
                busy={busy === 'complete'}
                onCancel={() => toggle('complete')}
                onSubmit={(outcome, note) =>
                  void act(
                    'complete',
                    () => completeHandoff(id, outcome, note),
                    (h) => `Completed “${handoffTitle(h)}” as ${h.outcome || outcome}; run #${h.run_id} moves on.`,
                  )
                }
              />
            ) : null}
            {form === 'reassign' && handoff.can.reassign ? (
              <ReassignForm
                handoff={handoff}
                busy={busy === 'reassign'}
                onCancel={() => toggle('reassign')}
                onSubmit={(kind, name, note) =>
                  void act(
                    'reassign',
                    () => reassignHandoff(id, { kind, name }, note),
                    (h) => `Handed “${handoffTitle(h)}” to ${assigneeLabel(h.to)}.`,
                  )
                }
              />
            ) : null}
            <ErrorList errors={errors} testId={`handoff-errors-${id}`} />
          </aside>
        ) : errors.length > 0 ? (
          <aside className="handoff-actions">
            <ErrorList errors={errors} testId={`handoff-errors-${id}`} />
          </aside>
        ) : null}
      </div>
    </article>
  );
}

function Context({ handoff, keys, errors }: { handoff: Handoff; keys: string[]; errors: [string, string][] }) {
  const id = handoff.id;
  // Expressions that failed are listed under the tree, not shown as their null stand-in.
  const failed = new Set(errors.map(([expression]) => expression));
  const shown = keys.filter((key) => !failed.has(key));
  const value = Object.fromEntries(shown.map((key) => [key, handoff.context[key]]));
  return (
    <div className="handoff-context">
      <h4>Context</h4>
      {shown.length > 0 ? (
        <JsonTree value={value} openDepth={isActive(handoff) ? 2 : 1} testId={`handoff-context-${id}`} />
      ) : errors.length === 0 ? (
        <p className="muted small">No context was handed over.</p>
      ) : null}
      {errors.length > 0 ? (
        <ul className="context-errors" data-testid={`handoff-context-errors-${id}`}>
          {errors.map(([expression, message]) => (
            <li key={expression}>
              <code>{expression}</code> could not be read: {message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function CompleteForm({
  handoff,
  busy,
  onCancel,
  onSubmit,
}: {
  handoff: Handoff;
  busy: boolean;
  onCancel: () => void;
  onSubmit: (outcome: string, note: string) => void;
}) {
  const id = handoff.id;
  const [outcome, setOutcome] = useState(handoff.outcomes.length === 1 ? (handoff.outcomes[0] ?? '') : '');
  const [note, setNote] = useState('');
  const [tried, setTried] = useState(false);
  const problem = completeProblem(handoff, outcome, note);
  return (
    <form
      className="handoff-form"
      data-testid={`complete-form-${id}`}
      onSubmit={(e) => {
        e.preventDefault();
        setTried(true);
        if (problem === null) onSubmit(outcome, note);
      }}
    >
      <fieldset className="outcomes">
        <legend>Outcome</legend>
        {handoff.outcomes.map((o) => (
          <label key={o} className={`outcome${outcome === o ? ' is-picked' : ''}`}>
            <input
              type="radio"
              name={`outcome-${id}`}
              value={o}
              checked={outcome === o}
              onChange={() => setOutcome(o)}
              data-testid={`outcome-${id}-${o}`}
            />
            {o}
          </label>
        ))}
      </fieldset>
      <label className="form-label" htmlFor={`complete-note-${id}`}>
        Note <span className="muted small">(optional, kept with the run)</span>
      </label>
      <textarea
        id={`complete-note-${id}`}
        rows={3}
        value={note}
        onChange={(e) => setNote(e.target.value)}
        placeholder="Why this outcome?"
        data-testid={`complete-note-${id}`}
      />
      {tried && problem ? (
        <p className="field-error" data-testid={`complete-problem-${id}`}>
          {problem}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="btn btn-primary btn-small" disabled={busy || (tried && problem !== null)} data-testid={`complete-submit-${id}`}>
          {busy ? 'Completing…' : outcome ? `Complete as ${outcome}` : 'Complete'}
        </button>
        <button type="button" className="btn btn-link btn-small" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function ReassignForm({
  handoff,
  busy,
  onCancel,
  onSubmit,
}: {
  handoff: Handoff;
  busy: boolean;
  onCancel: () => void;
  onSubmit: (kind: AssigneeKind, name: string, note: string) => void;
}) {
  const id = handoff.id;
  const [kind, setKind] = useState<AssigneeKind>('user');
  const [name, setName] = useState('');
  const [note, setNote] = useState('');
  const [tried, setTried] = useState(false);
  const problem = reassignProblem(handoff, kind, name);
  return (
    <form
      className="handoff-form"
      data-testid={`reassign-form-${id}`}
      onSubmit={(e) => {
        e.preventDefault();
        setTried(true);
        if (problem === null) onSubmit(kind, name.trim(), note);
      }}
    >
      <label className="form-label" htmlFor={`reassign-name-${id}`}>
        Hand it to
      </label>
      <div className="assignee-input">
        <select value={kind} onChange={(e) => setKind(e.target.value as AssigneeKind)} aria-label="Kind" data-testid={`reassign-kind-${id}`}>
          {ASSIGNEE_KINDS.map((k) => (
            <option key={k.value} value={k.value}>
              {k.label}
            </option>
          ))}
        </select>
        <input
          id={`reassign-name-${id}`}
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder={kind === 'group' ? 'group name' : kind === 'user' ? 'username' : 'agent name'}
          autoComplete="off"
          data-testid={`reassign-name-${id}`}
        />
      </div>
      <label className="form-label" htmlFor={`reassign-note-${id}`}>
        Note <span className="muted small">(optional)</span>
      </label>
      <textarea id={`reassign-note-${id}`} rows={2} value={note} onChange={(e) => setNote(e.target.value)} data-testid={`reassign-note-${id}`} />
      {tried && problem ? (
        <p className="field-error" data-testid={`reassign-problem-${id}`}>
          {problem}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="btn btn-small btn-secondary" disabled={busy} data-testid={`reassign-submit-${id}`}>
          {busy ? 'Reassigning…' : 'Reassign'}
        </button>
        <button type="button" className="btn btn-link btn-small" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
