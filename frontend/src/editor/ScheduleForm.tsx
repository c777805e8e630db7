/** Create or change a schedule: name, timetable with its next fire times live, zone, input, policies. */

import { useId, useMemo, useState, type FormEvent } from 'react';
import { createSchedule, updateSchedule, type Schedule } from '../api/schedules';
import type { ApiErrorItem } from '../api/types';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { FormField as Field } from '../ui/FormField';
import {
  CATCHUP_CHOICES,
  changedFields,
  emptyForm,
  formOf,
  OVERLAP_CHOICES,
  policyText,
  scheduleOf,
  timetableOf,
  type IntervalUnit,
  type ScheduleErrors,
  type ScheduleField,
  type ScheduleForm as Form,
} from './scheduleForm';
import { SchedulePreview } from './SchedulePreview';
import { describeCron, describeInterval, localTimeZone } from './timetable';
import { useSchedulePreview } from './useSchedulePreview';

let zones: string[] | null = null;

/** The browser's IANA zones, UTC first (read once). */
function timeZones(): string[] {
  if (zones === null) {
    const known = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    zones = ['UTC', ...known.filter((z) => z !== 'UTC')];
  }
  return zones;
}

interface ScheduleFormProps {
  slug: string;
  /** The schedule to change, or null for a new one. */
  schedule: Schedule | null;
  onSaved: (schedule: Schedule) => void;
  onCancel: () => void;
}

export function ScheduleForm({ slug, schedule, onSaved, onCancel }: ScheduleFormProps) {
  const [form, setForm] = useState<Form>(() => (schedule === null ? emptyForm(localTimeZone()) : formOf(schedule)));
  const [errors, setErrors] = useState<ScheduleErrors>({});
  const [apiErrors, setApiErrors] = useState<ApiErrorItem[]>([]);
  const [saving, setSaving] = useState(false);
  const ids = { zones: useId(), overlap: useId(), catchup: useId() };

  const timetable = timetableOf(form);
  const { preview, pending } = useSchedulePreview(timetable.ok ? timetable.value : null);
  const zoneList = useMemo(timeZones, []);
  // Problems found here show as the user types; the others when they save.
  const live: ScheduleErrors = timetable.ok ? {} : timetable.errors;
  const shown = (field: ScheduleField) => errors[field] ?? live[field];

  const change = (field: ScheduleField, value: string) => {
    setForm((prev) => ({ ...prev, [field]: value }));
    setErrors((prev) => {
      const next = { ...prev };
      delete next[field];
      return next;
    });
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = scheduleOf(form);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      return;
    }
    setSaving(true);
    setApiErrors([]);
    try {
      if (schedule === null) onSaved(await createSchedule(slug, parsed.value));
      else {
        const patch = changedFields(schedule, parsed.value);
        onSaved(Object.keys(patch).length === 0 ? schedule : await updateSchedule(schedule.id, patch));
      }
    } catch (error) {
      setApiErrors(errorItems(error));
    } finally {
      setSaving(false);
    }
  };

  const words = form.kind === 'cron' ? describeCron(form.cron) : timetable.ok ? describeInterval(timetable.value.interval_s) : null;

  return (
    <form className="schedule-form" onSubmit={(e) => void submit(e)} noValidate aria-label={schedule === null ? 'New schedule' : `Change ${schedule.name}`} data-testid="schedule-form">
      <h3 className="schedule-form-title">{schedule === null ? 'New schedule' : `Change “${schedule.name}”`}</h3>
      <fieldset className="schedule-fields" disabled={saving}>
        <Field label="Name" error={errors.name} render={(id) => <input id={id} type="text" value={form.name} onChange={(e) => change('name', e.target.value)} placeholder="Nightly report" data-testid="schedule-name" />} />
        <div className="schedule-kind" role="radiogroup" aria-label="Fires">
          {(['cron', 'interval'] as const).map((kind) => (
            <label key={kind} className={`schedule-kind-choice${form.kind === kind ? ' is-on' : ''}`}>
              <input type="radio" name="schedule-kind" value={kind} checked={form.kind === kind} onChange={() => change('kind', kind)} data-testid={`schedule-kind-${kind}`} />
              {kind === 'cron' ? 'On a cron timetable' : 'Every fixed interval'}
            </label>
          ))}
        </div>
        {form.kind === 'cron' ? (
          <Field
            label="Cron expression"
            error={shown('cron')}
            hint={
              <>
                <code>minute hour day month weekday</code>, or six fields with the seconds first. <code>0 9 * * 1-5</code>: 09:00 on weekdays.
              </>
            }
            render={(id) => (
              <input id={id} type="text" className="mono" value={form.cron} onChange={(e) => change('cron', e.target.value)} spellCheck={false} autoComplete="off" data-testid="schedule-cron" />
            )}
          />
        ) : (
          <Field
            label="Every"
            error={shown('interval')}
            render={(id) => (
              <div className="input-unit">
                <input id={id} type="text" inputMode="numeric" value={form.interval} onChange={(e) => change('interval', e.target.value)} data-testid="schedule-interval" />
                <select aria-label="Unit" value={form.intervalUnit} onChange={(e) => change('intervalUnit', e.target.value as IntervalUnit)} data-testid="schedule-interval-unit">
                  <option value="s">seconds</option>
                  <option value="min">minutes</option>
                  <option value="h">hours</option>
                  <option value="d">days</option>
                </select>
              </div>
            )}
          />
        )}
        <Field
          label="Time zone"
          error={shown('timezone')}
          hint={`Type to search; yours is ${localTimeZone()}.`}
          render={(id) => (
            <input id={id} type="text" list={ids.zones} value={form.timezone} onChange={(e) => change('timezone', e.target.value)} spellCheck={false} autoComplete="off" data-testid="schedule-timezone" />
          )}
        />
        <datalist id={ids.zones}>
          {zoneList.map((zone) => (
            <option key={zone} value={zone} />
          ))}
        </datalist>
        {words ? (
          <p className="schedule-words" data-testid="schedule-words">
            Fires {words}
            {form.kind === 'cron' ? `, ${form.timezone.trim()} time` : ''}.
          </p>
        ) : null}
        <SchedulePreview preview={timetable.ok ? preview : { status: 'idle' }} pending={timetable.ok && pending} timeZone={timetable.ok ? timetable.value.timezone : null} />
        <Field
          label="Input of each run"
          error={errors.input}
          hint="A JSON object, the same for every run this schedule starts."
          render={(id) => (
            <textarea id={id} className="mono" rows={3} value={form.input} onChange={(e) => change('input', e.target.value)} spellCheck={false} data-testid="schedule-input" />
          )}
        />
        <div className="field-grid">
          <div className="ifield">
            <label htmlFor={ids.overlap}>If the previous run is still going</label>
            <select id={ids.overlap} value={form.overlap} onChange={(e) => change('overlap', e.target.value)} data-testid="schedule-overlap">
              {OVERLAP_CHOICES.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </select>
            <p className="hint">{policyText(OVERLAP_CHOICES, form.overlap)}</p>
          </div>
          <div className="ifield">
            <label htmlFor={ids.catchup}>Slots missed during downtime</label>
            <select id={ids.catchup} value={form.catchup} onChange={(e) => change('catchup', e.target.value)} data-testid="schedule-catchup">
              {CATCHUP_CHOICES.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </select>
            <p className="hint">{policyText(CATCHUP_CHOICES, form.catchup)}</p>
          </div>
        </div>
        <Field
          label="Catch-up limit"
          error={errors.catchupLimit}
          hint="At most this many missed slots start (catch-up “all”), or wait (overlap “queue”)."
          render={(id) => (
            <input id={id} type="text" inputMode="numeric" className="schedule-limit" value={form.catchupLimit} onChange={(e) => change('catchupLimit', e.target.value)} data-testid="schedule-catchup-limit" />
          )}
        />
      </fieldset>
      <ErrorList errors={apiErrors} testId="schedule-form-errors" />
      <div className="actions">
        <button type="submit" className="btn btn-primary btn-small" disabled={saving} data-testid="schedule-save">
          {saving ? 'Saving…' : schedule === null ? 'Create schedule' : 'Save changes'}
        </button>
        <button type="button" className="btn btn-small" onClick={onCancel} disabled={saving} data-testid="schedule-cancel">
          Cancel
        </button>
      </div>
    </form>
  );
}
