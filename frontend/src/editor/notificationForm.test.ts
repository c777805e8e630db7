/** Tests for the notification rule form: checks, what a change sends, where server errors go, which events the team defaults cover. */

import { describe, expect, it } from 'vitest';
import type { ConnectionSummary, NotificationRule } from './notificationApi';
import { changedFields, emptyForm, formatUntil, formOf, notifyConnections, placeErrors, recipientsOf, ruleOf, toggleEvent, uncoveredEvents } from './notificationForm';

const connection = (name: string, kind: string): ConnectionSummary => ({ id: name.length, name, kind, owner_group: null, description: '' });
const connections = [connection('ops-hook', 'webhook'), connection('mail', 'smtp'), connection('db', 'postgres'), connection('alerts', 'slack')];

const saved: NotificationRule = {
  id: 4,
  workflow: 'orders',
  owner_group: null,
  name: 'On call',
  events: ['run_failed', 'run_stuck'],
  connection: 'ops-hook',
  connection_kind: 'webhook',
  to: [],
  enabled: true,
  max_per_hour: 10,
  created_at: '2025-01-06T09:00:00Z',
  updated_at: '2025-01-06T09:00:00Z',
};

describe('ruleOf', () => {
  it('sends the rule, without recipients for a webhook', () => {
    const parsed = ruleOf({ ...emptyForm(), name: ' On call ', connection: 'ops-hook', to: 'x@y.z' }, connections);
    expect(parsed).toEqual({ ok: true, value: { name: 'On call', events: ['run_failed'], connection: 'ops-hook', to: [], enabled: true, max_per_hour: 10 } });
  });

  it('needs an event, a connection and a sane rate', () => {
    const parsed = ruleOf({ ...emptyForm(), events: [], maxPerHour: '0' }, connections);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(Object.keys(parsed.errors).sort()).toEqual(['connection', 'events', 'maxPerHour']);
    const tooMany = ruleOf({ ...emptyForm(), connection: 'ops-hook', maxPerHour: '1001' }, connections);
    expect(tooMany.ok).toBe(false);
    const fraction = ruleOf({ ...emptyForm(), connection: 'ops-hook', maxPerHour: '2.5' }, connections);
    expect(fraction.ok).toBe(false);
  });

  it('refuses a connection that cannot notify', () => {
    const parsed = ruleOf({ ...emptyForm(), connection: 'db' }, connections);
    expect(parsed.ok ? null : parsed.errors.connection).toMatch(/postgres connection cannot send/);
  });

  it('asks an smtp rule for valid recipients', () => {
    expect(ruleOf({ ...emptyForm(), connection: 'mail' }, connections).ok).toBe(false);
    const bad = ruleOf({ ...emptyForm(), connection: 'mail', to: 'ops@example.com, nobody' }, connections);
    expect(bad.ok ? null : bad.errors.to).toBe('“nobody” is not an email address.');
    const good = ruleOf({ ...emptyForm(), connection: 'mail', to: 'ops@example.com\n lead@example.com ' }, connections);
    expect(good.ok && good.value.to).toEqual(['ops@example.com', 'lead@example.com']);
  });
});

describe('the rest of the form', () => {
  it('keeps ticked events in a fixed order', () => {
    let form = toggleEvent(emptyForm(), 'rolled_back', true);
    form = toggleEvent(form, 'run_stuck', true);
    expect(form.events).toEqual(['run_failed', 'run_stuck', 'rolled_back']);
    expect(toggleEvent(form, 'run_failed', false).events).toEqual(['run_stuck', 'rolled_back']);
  });

  it('sends only what changed', () => {
    const parsed = ruleOf({ ...formOf(saved), enabled: false }, connections);
    expect(parsed.ok && changedFields(saved, parsed.value)).toEqual({ enabled: false });
    const same = ruleOf(formOf(saved), connections);
    expect(same.ok && changedFields(saved, same.value)).toEqual({});
  });

  it('puts server errors under their fields', () => {
    const placed = placeErrors([
      { code: 'connection_not_allowed', message: 'belongs to another team', field: 'connection' },
      { code: 'min_value', message: 'too small', field: 'max_per_hour' },
      { code: 'invalid_choice', message: 'not an event', field: 'events.0' },
      { code: 'not_member', message: 'not your team' },
    ]);
    expect(placed.fields).toEqual({ connection: 'belongs to another team', maxPerHour: 'too small', events: 'not an event' });
    expect(placed.rest.map((e) => e.code)).toEqual(['not_member']);
  });

  it('offers only the connections that can notify, by name', () => {
    expect(notifyConnections(connections).map((c) => c.name)).toEqual(['alerts', 'mail', 'ops-hook']);
  });

  it('splits recipients on lines, commas and semicolons', () => {
    expect(recipientsOf('a@b.c,\n d@e.f; ;')).toEqual(['a@b.c', 'd@e.f']);
  });

  it('tells which events the team defaults still cover', () => {
    expect(uncoveredEvents([saved])).toEqual(['handoff_overdue', 'canary_aborted', 'rolled_back', 'retry_budget_exhausted']);
  });

  it('says how long until the next attempt', () => {
    const now = Date.parse('2025-01-06T09:00:00Z');
    expect(formatUntil('2025-01-06T09:00:40Z', now)).toBe('in 40 s');
    expect(formatUntil('2025-01-06T09:10:00Z', now)).toBe('in 10 min');
    expect(formatUntil('2025-01-06T08:59:00Z', now)).toBe('now');
  });
});
