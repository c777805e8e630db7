/** Pick the retry, handoff and release events out of the board stream and describe them (no React). */

import type { RunEvent } from '../api/types';

export type FeedKind = 'retry' | 'handoff' | 'release';

/** Workflow-level events about which version runs: publishes, canaries, rollbacks. */
export const RELEASE_KINDS: ReadonlySet<string> = new Set([
  'version_published',
  'live_version_changed',
  'canary_started',
  'canary_promoted',
  'canary_aborted',
  'auto_rollback',
]);

export interface FeedItem {
  id: number; // event id
  kind: string;
  runId: number | null;
  workflow: string | null;
  nodeId: string | null;
  attempt: number | null;
  title: string;
  detail: string;
  createdAt: string;
  tone: 'failed' | 'waiting' | 'deferred' | 'info';
  /** Switchyard did it by itself (an automatic rollback): shown so that it stands out. */
  automatic?: boolean;
}

/** Newest items kept per feed. */
export const MAX_FEED_ITEMS = 100;

function numberIn(data: unknown, key: string): number | null {
  if (typeof data !== 'object' || data === null) return null;
  const value = (data as Record<string, unknown>)[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Return which feed an event belongs to, or null for neither. */
export function feedKind(event: RunEvent): FeedKind | null {
  if (event.kind.startsWith('handoff_')) return 'handoff';
  if (RELEASE_KINDS.has(event.kind)) return 'release';
  switch (event.kind) {
    case 'step_retry_wait':
    case 'retry_deferred':
    case 'attempt_failed':
      return 'retry';
    case 'attempt_scheduled':
      return (numberIn(event.data, 'number') ?? 1) > 1 ? 'retry' : null;
    default:
      return null;
  }
}

/** Describe a feed event for people. */
export function feedItem(event: RunEvent): FeedItem {
  const data = event.data;
  const number = numberIn(data, 'number') ?? numberIn(data, 'next_attempt');
  const base = {
    id: event.id,
    kind: event.kind,
    runId: event.run_id,
    workflow: event.workflow,
    nodeId: event.node_id || null,
    attempt: number,
    createdAt: event.created_at,
    detail: event.reason ?? '',
  };
  switch (event.kind) {
    case 'attempt_failed':
      return { ...base, title: number ? `Attempt ${number} failed` : 'Attempt failed', tone: 'failed' };
    case 'step_retry_wait':
      return { ...base, title: number ? `Retry ${number} waiting` : 'Waiting to retry', tone: 'waiting' };
    case 'attempt_scheduled':
      return {
        ...base,
        title: `Retry scheduled (attempt ${number ?? '?'})`,
        detail: base.detail || dueText(data),
        tone: 'waiting',
      };
    case 'retry_deferred':
      return { ...base, title: number ? `Retry ${number} deferred` : 'Retry deferred', tone: 'deferred' };
    default:
      return RELEASE_KINDS.has(event.kind) ? { ...base, attempt: null, ...releaseText(event) } : { ...base, ...handoffText(event) };
  }
}

/** Return a person or system from an event actor: "user:alice" → "alice", "agent:bot" → "agent bot". */
export function actorName(actor: string | null): string {
  if (!actor) return '';
  const colon = actor.indexOf(':');
  if (colon === -1) return actor;
  const kind = actor.slice(0, colon);
  const name = actor.slice(colon + 1);
  if (kind === 'user') return name;
  if (kind === 'system') return name === 'sla' ? 'the SLA timer' : name || 'system';
  return `${kind} ${name}`;
}

function record(data: unknown): Record<string, unknown> {
  return typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
}

function stringIn(data: unknown, key: string): string {
  const value = record(data)[key];
  return typeof value === 'string' ? value : '';
}

/** Return "group reviewers" from an event's `{kind, name}`, or "" when it has none. */
function assigneeIn(data: unknown, key: string): string {
  const value = record(record(data)[key]);
  return typeof value.kind === 'string' && typeof value.name === 'string' ? `${value.kind} ${value.name}` : '';
}

function joined(...parts: string[]): string {
  return parts.filter((p) => p.trim()).join(' — ');
}

function spanText(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/**
 * Describe a handoff event (runs/handoffs.py writes them): opened `{to, outcomes,
 * due_at}`, claimed `{by}`, released (reason: note), reassigned and escalated
 * `{from, to}`, completed `{outcome, by}` (reason: note), expired `{due_at, late_s}`,
 * cancelled (reason), reviewed `{verdict}` (reason: comment).
 */
export function handoffText(event: RunEvent): Pick<FeedItem, 'title' | 'detail' | 'tone'> {
  const data = event.data;
  const reason = event.reason ?? '';
  const who = stringIn(data, 'by') || actorName(event.actor);
  switch (event.kind) {
    case 'handoff_opened': {
      const to = assigneeIn(data, 'to');
      const outcomes = record(data).outcomes;
      const choices = Array.isArray(outcomes) ? outcomes.filter((o) => typeof o === 'string').join(' / ') : '';
      return {
        title: to ? `Handoff opened for ${to}` : 'Handoff opened',
        detail: [choices, dueText(data)].filter(Boolean).join(' · '),
        tone: 'waiting',
      };
    }
    case 'handoff_claimed':
      return { title: who ? `Handoff claimed by ${who}` : 'Handoff claimed', detail: '', tone: 'info' };
    case 'handoff_released':
      return { title: who ? `Handoff released by ${who}` : 'Handoff released', detail: reason, tone: 'waiting' };
    case 'handoff_reassigned': {
      const to = assigneeIn(data, 'to');
      const from = assigneeIn(data, 'from');
      // The reason is the person's note, or "to <kind> <name>" when they left none.
      const note = reason === `to ${to}` ? '' : reason;
      return {
        title: to ? `Handoff reassigned to ${to}` : 'Handoff reassigned',
        detail: joined(from ? `from ${from}` : '', who ? `by ${who}` : '', note),
        tone: 'info',
      };
    }
    case 'handoff_completed': {
      const outcome = stringIn(data, 'outcome');
      return {
        title: outcome ? `Handoff completed: ${outcome}` : 'Handoff completed',
        detail: joined(who ? `by ${who}` : '', reason),
        tone: 'info',
      };
    }
    case 'handoff_expired': {
      const late = numberIn(data, 'late_s');
      return {
        title: 'Handoff overdue',
        detail: joined(reason, late !== null && late >= 1 ? `${spanText(late)} late` : ''),
        tone: 'failed',
      };
    }
    case 'handoff_escalated': {
      const to = assigneeIn(data, 'to');
      const from = assigneeIn(data, 'from');
      return { title: to ? `Handoff escalated to ${to}` : 'Handoff escalated', detail: from ? `from ${from}` : reason, tone: 'deferred' };
    }
    case 'handoff_cancelled':
      return { title: 'Handoff cancelled', detail: reason, tone: 'deferred' };
    case 'handoff_reviewed': {
      const verdict = stringIn(data, 'verdict') || event.to_state || '';
      return {
        title: verdict ? `Handoff reviewed: ${verdict}` : 'Handoff reviewed',
        detail: joined(who ? `by ${who}` : '', reason),
        tone: verdict === 'incorrect' ? 'failed' : 'info',
      };
    }
    default: {
      const verb = event.kind.slice('handoff_'.length).replace(/_/g, ' ');
      return { title: `Handoff ${verb}`.trim(), detail: reason, tone: 'info' };
    }
  }
}

/**
 * Describe a release event (designer/services.py, designer/rollout.py):
 * version_published `{number, canary_percent, gate}`, live_version_changed `{from, to}`,
 * canary_started `{version, percent}`, canary_promoted `{from, to}`, canary_aborted
 * `{version, automatic?, success_rate?, …}` (reason: why), auto_rollback `{from, to}`.
 */
export function releaseText(event: RunEvent): Pick<FeedItem, 'title' | 'detail' | 'tone' | 'automatic'> {
  const data = record(event.data);
  const reason = event.reason ?? '';
  const who = actorName(event.actor);
  const by = who && !event.actor?.startsWith('system') ? `by ${who}` : '';
  const v = (n: unknown) => (typeof n === 'number' ? `v${n}` : '');
  const automatic = data.automatic === true;
  switch (event.kind) {
    case 'version_published': {
      const number = v(data.number) || v(event.version);
      const percent = numberIn(data, 'canary_percent') ?? 0;
      const gate = record(data.gate);
      const problems = Array.isArray(gate.problems) ? gate.problems.filter((p): p is string => typeof p === 'string') : [];
      const gateNote = gate.ok === false && problems.length ? `gate (${String(gate.mode)}): ${problems.join('; ')}` : '';
      return {
        title: percent > 0 ? `${number} published as a canary (${percent} %)` : `${number} published and live`,
        detail: joined(by, gateNote),
        tone: gateNote ? 'deferred' : 'info',
      };
    }
    case 'live_version_changed':
      return {
        title: `Live version ${v(data.from) || '?'} → ${v(data.to) || v(event.version)}`,
        detail: joined(by, reason === 'rollback' ? '' : reason),
        tone: 'info',
      };
    case 'canary_started': {
      const percent = numberIn(data, 'percent');
      return {
        title: `Canary ${v(data.version) || v(event.version)} started${percent !== null ? ` at ${percent} %` : ''}`,
        detail: by,
        tone: 'waiting',
      };
    }
    case 'canary_promoted':
      return { title: `Canary ${v(data.to) || v(event.version)} promoted to live`, detail: joined(by, data.from ? `replaces ${v(data.from)}` : ''), tone: 'info' };
    case 'canary_aborted': {
      const version = v(data.version) || v(event.version);
      if (automatic) {
        return {
          title: `Automatic rollback: canary ${version} aborted`,
          detail: reason.replace(/^automatic rollback:\s*/, ''),
          tone: 'failed',
          automatic: true,
        };
      }
      return { title: `Canary ${version} aborted`, detail: joined(by, reason === 'aborted' ? '' : reason), tone: 'deferred' };
    }
    case 'auto_rollback':
      return {
        title: `Automatic rollback: ${v(data.from) || '?'} → ${v(data.to) || v(event.version)}`,
        detail: reason.replace(/^v\d+ rolled back to v\d+:\s*/, ''),
        tone: 'failed',
        automatic: true,
      };
    default:
      return { title: event.kind.replace(/_/g, ' '), detail: reason, tone: 'info' };
  }
}

function dueText(data: unknown): string {
  if (typeof data !== 'object' || data === null) return '';
  const due = (data as { due_at?: unknown }).due_at;
  if (typeof due !== 'string') return '';
  const at = Date.parse(due);
  return Number.isNaN(at) ? '' : `due ${new Date(at).toLocaleTimeString()}`;
}

export interface FeedState {
  retry: FeedItem[]; // newest first
  handoff: FeedItem[];
  release: FeedItem[];
}

export const initialFeed: FeedState = { retry: [], handoff: [], release: [] };

/** Add an event to its feed (newest first, capped); others leave the state as it is. */
export function feedEvent(state: FeedState, event: RunEvent): FeedState {
  const kind = feedKind(event);
  if (kind === null) return state;
  const list = state[kind];
  if (list.some((item) => item.id === event.id)) return state;
  const next = [feedItem(event), ...list].sort((a, b) => b.id - a.id).slice(0, MAX_FEED_ITEMS);
  return { ...state, [kind]: next };
}

/**
 * The event kinds each feed shows, as the events API is asked for them (one request
 * per feed, so that many retries do not crowd out the releases). First attempts
 * (`attempt_scheduled` number 1) are not retries, so that kind is left to the stream:
 * each scheduled retry also writes `step_retry_wait` or follows an `attempt_failed`.
 */
export const FEED_HISTORY_KINDS: Readonly<Record<FeedKind, readonly string[]>> = {
  retry: ['attempt_failed', 'step_retry_wait', 'retry_deferred'],
  handoff: [
    'handoff_opened',
    'handoff_claimed',
    'handoff_released',
    'handoff_reassigned',
    'handoff_completed',
    'handoff_expired',
    'handoff_escalated',
    'handoff_cancelled',
    'handoff_reviewed',
  ],
  release: [...RELEASE_KINDS],
};

/** Events read from history per feed. */
export const FEED_HISTORY_LIMIT = 50;

/** Add events read from history (any order) to the feeds; ones already shown stay once. */
export function feedHistory(state: FeedState, events: readonly RunEvent[]): FeedState {
  return events.reduce(feedEvent, state);
}
