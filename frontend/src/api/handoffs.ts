/** Handoff endpoints and shapes: the inbox list, one handoff, claim, release, complete, reassign. */

import { api } from './client';
import type { Page, RunEvent } from './types';

export type HandoffState = 'open' | 'claimed' | 'completed' | 'expired' | 'escalated' | 'cancelled';

/** The states in which a handoff still waits for someone (`status=active`). */
export const ACTIVE_HANDOFF_STATES: readonly HandoffState[] = ['open', 'claimed', 'expired', 'escalated'];

export type AssigneeKind = 'group' | 'user' | 'agent';

export interface Assignee {
  kind: AssigneeKind;
  name: string;
}

/** What the requesting user may do with the handoff now. */
export interface HandoffCan {
  claim: boolean;
  release: boolean;
  complete: boolean;
  reassign: boolean;
}

export type HandoffAction = keyof HandoffCan;

export interface Handoff {
  id: number;
  state: HandoffState;
  run_id: number;
  workflow: string; // slug
  workflow_name: string;
  version: number;
  node_id: string;
  title: string;
  instructions: string;
  outcomes: string[];
  context: Record<string, unknown>; // {expression: value}
  context_errors: Record<string, string>; // {expression: message}
  to: Assignee;
  escalate_to: Assignee | null;
  sla_s: number | null;
  due_at: string | null;
  overdue: boolean;
  created_at: string;
  claimed_by: string | null;
  claimed_at: string | null;
  completed_by: string | null;
  completed_at: string | null;
  outcome: string;
  note: string;
  escalated_at: string | null;
  verdict: 'unreviewed' | 'correct' | 'incorrect';
  run_state: string;
  can: HandoffCan;
}

export interface HandoffPage extends Page<Handoff> {
  /** Newest Event id when the list was read: open the stream after it. */
  last_event_id: number;
}

/** An event of the stream; handoff events carry `handoff_id`. */
export type HandoffEvent = RunEvent & { handoff_id?: number | null };

export interface HandoffDetail extends Handoff {
  events: HandoffEvent[];
}

export type HandoffStatus = HandoffState | 'active';

export interface HandoffQuery {
  status: HandoffStatus | '';
  mine: boolean;
  workflow?: string;
  limit: number;
  offset: number;
}

/** Return the query string of a handoff list query, leaving out what means "any". */
export function handoffQueryString(query: HandoffQuery): string {
  const params = new URLSearchParams();
  if (query.status) params.set('status', query.status);
  if (query.mine) params.set('mine', '1');
  if (query.workflow?.trim()) params.set('workflow', query.workflow.trim());
  params.set('limit', String(query.limit));
  params.set('offset', String(query.offset));
  return params.toString();
}

export function listHandoffs(query: HandoffQuery, signal?: AbortSignal): Promise<HandoffPage> {
  return api.get<HandoffPage>(`/api/v1/handoffs/?${handoffQueryString(query)}`, signal);
}

export function getHandoff(id: number, signal?: AbortSignal): Promise<HandoffDetail> {
  return api.get<HandoffDetail>(`/api/v1/handoffs/${id}/`, signal);
}

export function claimHandoff(id: number): Promise<Handoff> {
  return api.post<Handoff>(`/api/v1/handoffs/${id}/claim/`, {});
}

export function releaseHandoff(id: number): Promise<Handoff> {
  return api.post<Handoff>(`/api/v1/handoffs/${id}/release/`, {});
}

/** Complete with one of the handoff's outcomes; a blank note is not sent. */
export function completeHandoff(id: number, outcome: string, note = ''): Promise<Handoff> {
  const body: { outcome: string; note?: string } = { outcome };
  if (note.trim()) body.note = note.trim();
  return api.post<Handoff>(`/api/v1/handoffs/${id}/complete/`, body);
}

/** Hand it to another group, user or agent; it is open again for them. */
export function reassignHandoff(id: number, to: Assignee, note = ''): Promise<Handoff> {
  const body: { to: Record<string, string>; note?: string } = { to: { [to.kind]: to.name.trim() } };
  if (note.trim()) body.note = note.trim();
  return api.post<Handoff>(`/api/v1/handoffs/${id}/reassign/`, body);
}
