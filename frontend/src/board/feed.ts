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
    default: {
      const verb = event.kind.slice('handoff_'.length).replace(/_/g, ' ');
      return { ...base, title: `Handoff ${verb}`.trim(), tone: 'info' };
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
