/** The notification rule form as fields, checked and turned into what the API takes (no React). */

import type { ApiErrorItem } from '../api/types';
import type { ConnectionSummary, NotificationEventName, NotificationRule, NotificationRuleInput } from './notificationApi';

// The server's limits (runs/models/notifications.py).
export const MAX_PER_HOUR = 1000;
export const MAX_RECIPIENTS = 20;
export const MAX_NAME_LENGTH = 200;
/** The connection kinds a message can go through. */
export const NOTIFY_KINDS = ['slack', 'webhook', 'smtp'] as const;

export const EVENTS: readonly { value: NotificationEventName; label: string; hint: string }[] = [
  { value: 'run_failed', label: 'Run failed', hint: 'Once per run, also when a retried run fails again.' },
  { value: 'run_stuck', label: 'Run stuck', hint: 'A running run that recorded nothing for longer than its steps may take.' },
  { value: 'handoff_overdue', label: 'Handoff overdue', hint: 'A handoff past its SLA, escalated.' },
  { value: 'canary_aborted', label: 'Canary aborted', hint: 'By a person or by the rollback criteria.' },
  { value: 'rolled_back', label: 'Rolled back', hint: 'The live version moved back to an earlier one.' },
  { value: 'retry_budget_exhausted', label: 'Retry budget spent', hint: 'Retries on a queue wait; at most once per queue and hour.' },
];

export function eventLabel(value: string): string {
  return EVENTS.find((e) => e.value === value)?.label ?? value;
}

export interface RuleForm {
  name: string;
  events: NotificationEventName[];
  connection: string;
  /** Recipients, one per line or separated by commas. */
  to: string;
  enabled: boolean;
  maxPerHour: string;
}

export type RuleField = keyof RuleForm;
export type RuleErrors = Partial<Record<RuleField, string>>;
export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: RuleErrors };

export function emptyForm(): RuleForm {
  return { name: '', events: ['run_failed'], connection: '', to: '', enabled: true, maxPerHour: '10' };
}

export function formOf(rule: NotificationRule): RuleForm {
  return {
    name: rule.name,
    events: [...rule.events],
    connection: rule.connection ?? '',
    to: rule.to.join('\n'),
    enabled: rule.enabled,
    maxPerHour: String(rule.max_per_hour),
  };
}

/** Return the form with `event` ticked or not, in the order of EVENTS. */
export function toggleEvent(form: RuleForm, event: NotificationEventName, on: boolean): RuleForm {
  const chosen = new Set(form.events);
  if (on) chosen.add(event);
  else chosen.delete(event);
  return { ...form, events: EVENTS.map((e) => e.value).filter((v) => chosen.has(v)) };
}

/** The connections a rule can send through, by name. */
export function notifyConnections(all: ConnectionSummary[]): ConnectionSummary[] {
  return all.filter((c) => (NOTIFY_KINDS as readonly string[]).includes(c.kind)).sort((a, b) => a.name.localeCompare(b.name));
}

export function recipientsOf(text: string): string[] {
  return text
    .split(/[\n,;]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Check the whole form and return the rule to send (the server checks the connection's team). */
export function ruleOf(form: RuleForm, connections: ConnectionSummary[]): Parsed<NotificationRuleInput> {
  const errors: RuleErrors = {};
  const name = form.name.trim();
  if (name.length > MAX_NAME_LENGTH) errors.name = `At most ${MAX_NAME_LENGTH} characters.`;
  if (form.events.length === 0) errors.events = 'Pick at least one event.';
  const connection = connections.find((c) => c.name === form.connection);
  if (form.connection === '') errors.connection = 'Pick the connection to send through.';
  else if (connection !== undefined && !(NOTIFY_KINDS as readonly string[]).includes(connection.kind)) {
    errors.connection = `A ${connection.kind} connection cannot send messages; use Slack, a webhook or email (SMTP).`;
  }
  const to = recipientsOf(form.to);
  if (connection?.kind === 'smtp') {
    if (to.length === 0) errors.to = 'Email needs at least one recipient.';
    else if (to.length > MAX_RECIPIENTS) errors.to = `At most ${MAX_RECIPIENTS} recipients.`;
    else {
      const bad = to.find((address) => !EMAIL.test(address));
      if (bad !== undefined) errors.to = `“${bad}” is not an email address.`;
    }
  }
  const perHour = Number(form.maxPerHour.trim());
  if (!/^\d+$/.test(form.maxPerHour.trim()) || perHour < 1 || perHour > MAX_PER_HOUR) {
    errors.maxPerHour = `A whole number from 1 to ${MAX_PER_HOUR}.`;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      name,
      events: form.events,
      connection: form.connection,
      to: connection?.kind === 'smtp' ? to : [],
      enabled: form.enabled,
      max_per_hour: perHour,
    },
  };
}

/** Return only the fields that differ from the saved rule. */
export function changedFields(saved: NotificationRule, next: NotificationRuleInput): Partial<NotificationRuleInput> {
  const patch: Partial<NotificationRuleInput> = {};
  if (saved.name !== next.name) patch.name = next.name;
  if (saved.events.join() !== next.events.join()) patch.events = next.events;
  if ((saved.connection ?? '') !== next.connection) patch.connection = next.connection;
  if (saved.to.join('\n') !== next.to.join('\n')) patch.to = next.to;
  if (saved.enabled !== next.enabled) patch.enabled = next.enabled;
  if (saved.max_per_hour !== next.max_per_hour) patch.max_per_hour = next.max_per_hour;
  return patch;
}

// {server field: the form field it is about}
const FIELD_OF: Record<string, RuleField> = {
  name: 'name',
  events: 'events',
  connection: 'connection',
  to: 'to',
  enabled: 'enabled',
  max_per_hour: 'maxPerHour',
};

/** Put the server's errors under their fields; return those about no field. */
export function placeErrors(items: ApiErrorItem[]): { fields: RuleErrors; rest: ApiErrorItem[] } {
  const fields: RuleErrors = {};
  const rest: ApiErrorItem[] = [];
  for (const item of items) {
    const base = item.field?.split('.')[0];
    const field = base === undefined ? undefined : FIELD_OF[base];
    if (field === undefined) rest.push(item);
    else fields[field] = fields[field] ? `${fields[field]} ${item.message}` : item.message;
  }
  return { fields, rest };
}

/** Say which events a rule watches, in words. */
export function describeEvents(events: readonly string[]): string {
  return events.map(eventLabel).join(', ');
}

/** The events no rule of the workflow watches: where the team's defaults apply. */
export function uncoveredEvents(rules: NotificationRule[]): NotificationEventName[] {
  const covered = new Set(rules.flatMap((r) => r.events));
  return EVENTS.map((e) => e.value).filter((v) => !covered.has(v));
}

/** Return "in 40 s", "in 3 min", "in 2 h" for a time ahead, or "now" once it has come. */
export function formatUntil(iso: string, now: number): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (Number.isNaN(seconds) || seconds <= 0) return 'now';
  if (seconds < 60) return `in ${seconds} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `in ${minutes} min` : `in ${Math.round(minutes / 60)} h`;
}
