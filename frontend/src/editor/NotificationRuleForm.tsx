/** Create or change a notification rule: events, connection, recipients, rate limit; the server's reasons go under their field. */

import { FormField } from '../ui/FormField';
import { createRule, updateRule, type ConnectionSummary, type NotificationRule } from './notificationApi';
import { changedFields, emptyForm, EVENTS, formOf, MAX_PER_HOUR, placeErrors, ruleOf, toggleEvent } from './notificationForm';
import { ResourceForm } from './ResourceForm';
import { useResourceForm } from './useResourceForm';

interface NotificationRuleFormProps {
  slug: string;
  /** The rule to change, or null for a new one. */
  rule: NotificationRule | null;
  /** The slack, webhook and smtp connections the user sees; null while loading. */
  connections: ConnectionSummary[] | null;
  onSaved: (rule: NotificationRule) => void;
  onCancel: () => void;
}

export function NotificationRuleForm({ slug, rule, connections, onSaved, onCancel }: NotificationRuleFormProps) {
  const choices = connections ?? [];
  const editing = useResourceForm({
    saved: rule,
    initial: () => (rule === null ? emptyForm() : formOf(rule)),
    check: (filled) => ruleOf(filled, choices),
    changedFields,
    create: (value) => createRule(slug, value),
    update: updateRule,
    onCreated: onSaved,
    onSaved,
    placeErrors,
  });
  const { form, errors, change } = editing;
  const chosen = choices.find((c) => c.name === form.connection);
  // A rule whose connection is gone (or not visible) still shows it, so a save does not change it unseen.
  const missing = form.connection !== '' && chosen === undefined && connections !== null;

  return (
    <ResourceForm
      name="notification"
      boxed={false}
      editing={editing}
      label={rule === null ? 'New notification rule' : 'Change notification rule'}
      title={rule === null ? 'New notification rule' : `Change “${rule.name || 'rule'}”`}
      createLabel="Create rule"
      onCancel={onCancel}
    >
      <FormField
        label="Name (optional)"
        error={errors.name}
        hint="For people, such as “On-call channel”."
        render={(id) => <input id={id} type="text" value={form.name} onChange={(e) => change('name', e.target.value)} placeholder="On-call channel" data-testid="notification-name" />}
      />
      <fieldset className={`ifield notification-events${errors.events ? ' has-error' : ''}`} data-testid="notification-events">
        <legend>When</legend>
        {EVENTS.map((e) => (
          <label key={e.value} className="notification-event" title={e.hint}>
            <input type="checkbox" checked={form.events.includes(e.value)} onChange={(ev) => change('events', toggleEvent(form, e.value, ev.target.checked).events)} data-testid={`notification-event-${e.value}`} />
            <span>{e.label}</span>
            <span className="hint">{e.hint}</span>
          </label>
        ))}
        {errors.events ? (
          <p className="field-error" role="alert">
            {errors.events}
          </p>
        ) : null}
      </fieldset>
      <FormField
        label="Send through"
        error={errors.connection}
        hint={
          connections !== null && choices.length === 0 ? (
            <>
              No Slack, webhook or email (SMTP) connection yet: create one on the <a href="/connections/">Connections</a> page first.
            </>
          ) : (
            'A Slack, webhook or email (SMTP) connection of this workflow’s team (or of no team).'
          )
        }
        render={(id) => (
          <select id={id} value={form.connection} onChange={(e) => change('connection', e.target.value)} data-testid="notification-connection">
            <option value="">{connections === null ? 'Loading…' : 'Choose a connection'}</option>
            {missing ? <option value={form.connection}>{form.connection} (not found)</option> : null}
            {choices.map((c) => (
              <option key={c.id} value={c.name}>
                {c.name} ({c.kind}
                {c.owner_group ? `, ${c.owner_group}` : ''})
              </option>
            ))}
          </select>
        )}
      />
      {chosen?.kind === 'smtp' ? (
        <FormField
          label="Recipients"
          error={errors.to}
          hint="Email addresses, one per line or separated by commas."
          render={(id) => <textarea id={id} rows={2} value={form.to} onChange={(e) => change('to', e.target.value)} placeholder="oncall@example.com" data-testid="notification-to" />}
        />
      ) : null}
      <FormField
        label="At most, per hour"
        error={errors.maxPerHour}
        hint="Past this many messages of this rule in the last hour, more are listed as suppressed instead of sent."
        render={(id) => (
          <input id={id} type="number" min={1} max={MAX_PER_HOUR} value={form.maxPerHour} onChange={(e) => change('maxPerHour', e.target.value)} data-testid="notification-rate" />
        )}
      />
      <div className="ifield ifield-check">
        <input id="notification-enabled" type="checkbox" checked={form.enabled} onChange={(e) => change('enabled', e.target.checked)} data-testid="notification-enabled" />
        <label htmlFor="notification-enabled">Enabled</label>
        <p className="hint">A disabled rule sends nothing, and still keeps the team’s defaults away from its events.</p>
      </div>
    </ResourceForm>
  );
}
