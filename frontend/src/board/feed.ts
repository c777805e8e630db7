/** Pick the retry and handoff events out of the board stream and describe them (no React). */

import type { RunEvent } from '../api/types';

export type FeedKind = 'retry' | 'handoff';

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
      return { ...base, ...handoffText(event) };
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
}

export const initialFeed: FeedState = { retry: [], handoff: [] };

/** Add an event to its feed (newest first, capped); others leave the state as it is. */
export function feedEvent(state: FeedState, event: RunEvent): FeedState {
  const kind = feedKind(event);
  if (kind === null) return state;
  const list = state[kind];
  if (list.some((item) => item.id === event.id)) return state;
  const next = [feedItem(event), ...list].sort((a, b) => b.id - a.id).slice(0, MAX_FEED_ITEMS);
  return { ...state, [kind]: next };
}
