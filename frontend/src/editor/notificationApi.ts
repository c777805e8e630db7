/** Notification endpoints: a workflow's rules (and its team's defaults), the messages sent, the connections a rule can use. */

import { api, apiFetch } from '../api/client';

export type NotificationEventName = 'run_failed' | 'run_stuck' | 'handoff_overdue' | 'canary_aborted' | 'rolled_back' | 'retry_budget_exhausted';

export type DeliveryState = 'pending' | 'sent' | 'failed' | 'suppressed';

/** What a rule is made of, as it is sent (`POST .../notifications/`, `PATCH`). */
export interface NotificationRuleInput {
  name: string;
  events: NotificationEventName[];
  /** A connection's name (slack, webhook or smtp). */
  connection: string;
  /** Mail recipients, for an smtp connection only. */
  to: string[];
  enabled: boolean;
  max_per_hour: number;
}

export interface NotificationRule extends Omit<NotificationRuleInput, 'connection'> {
  id: number;
  workflow: string | null; // slug; null for a team default
  owner_group: string | null; // the team of a default rule
  connection: string | null; // null once its connection was deleted
  connection_kind: string | null;
  created_at: string;
  updated_at: string;
}

export interface WorkflowRules {
  results: NotificationRule[];
  /** The team's defaults: they apply to the events no rule of the workflow watches. */
  team_defaults: NotificationRule[];
}

export interface Delivery {
  id: number;
  rule: number;
  workflow: string;
  run: number | null;
  event: NotificationEventName;
  source_kind: string;
  subject: string;
  text: string;
  link: string;
  state: DeliveryState;
  attempts: number;
  last_error: string;
  next_attempt_at: string;
  created_at: string;
  finished_at: string | null;
}

export interface DeliveryPage {
  count: number;
  results: Delivery[];
}

/** A connection as `GET /api/v1/connections/` lists it (what a picker needs). */
export interface ConnectionSummary {
  id: number;
  name: string;
  kind: string;
  owner_group: string | null;
  description: string;
}

const workflowRules = (slug: string) => `/api/v1/workflows/${encodeURIComponent(slug)}/notifications/`;
const rulePath = (id: number) => `/api/v1/notification-rules/${id}/`;

export function listRules(slug: string, signal?: AbortSignal): Promise<WorkflowRules> {
  return api.get<WorkflowRules>(workflowRules(slug), signal);
}

export function createRule(slug: string, body: NotificationRuleInput): Promise<NotificationRule> {
  return api.post<NotificationRule>(workflowRules(slug), body);
}

export function updateRule(id: number, patch: Partial<NotificationRuleInput>): Promise<NotificationRule> {
  return apiFetch<NotificationRule>(rulePath(id), { method: 'PATCH', body: patch });
}

export function deleteRule(id: number): Promise<void> {
  return apiFetch<void>(rulePath(id), { method: 'DELETE' });
}

/** The workflow's latest messages, newest first. */
export function listDeliveries(slug: string, limit: number, signal?: AbortSignal): Promise<DeliveryPage> {
  return api.get<DeliveryPage>(`/api/v1/notifications/?workflow=${encodeURIComponent(slug)}&limit=${limit}`, signal);
}

/** Send a failed message again. */
export function resendDelivery(id: number): Promise<Delivery> {
  return api.post<Delivery>(`/api/v1/notifications/${id}/resend/`, {});
}

export function listConnections(signal?: AbortSignal): Promise<{ results: ConnectionSummary[] }> {
  return api.get<{ results: ConnectionSummary[] }>('/api/v1/connections/', signal);
}
