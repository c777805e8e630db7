/** Create or change a schedule: name, timetable with its next fire times live, zone, input, policies. */

import { useId, useMemo } from 'react';
import { createSchedule, updateSchedule, type Schedule } from '../api/schedules';
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
} from './scheduleForm';
import { ResourceForm } from './ResourceForm';
import { SchedulePreview } from './SchedulePreview';
import { describeCron, describeInterval, localTimeZone } from './timetable';
import { useResourceForm } from './useResourceForm';
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

interface PolicyFieldProps<V extends string> {
  label: string;
  choices: readonly { value: V; label: string; text: string }[];
  value: V;
  onChange: (value: V) => void;
  testId: string;
}

/** A policy chosen from its choices, with what the chosen one does under it. */
function PolicyField<V extends string>({ label, choices, value, onChange, testId }: PolicyFieldProps<V>) {
  const id = useId();
  return (
    <div className="ifield">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as V)} data-testid={testId}>
        {choices.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
      <p className="hint">{policyText(choices, value)}</p>
    </div>
  );
}

interface ScheduleFormProps {
  slug: string;
  /** The schedule to change, or null for a new one. */
  schedule: Schedule | null;
  onSaved: (schedule: Schedule) => void;
  onCancel: () => void;
}

export function ScheduleForm({ slug, schedule, onSaved, onCancel }: ScheduleFormProps) {
  const editing = useResourceForm({
    saved: schedule,
    initial: () => (schedule === null ? emptyForm(localTimeZone()) : formOf(schedule)),
    check: scheduleOf,
    changedFields,
    create: (value) => createSchedule(slug, value),
    update: updateSchedule,
    onCreated: onSaved,
    onSaved,
  });
  const { form, errors, change } = editing;
  const zonesId = useId();

  const timetable = timetableOf(form);
  const { preview, pending } = useSchedulePreview(timetable.ok ? timetable.value : null);
  const zoneList = useMemo(timeZones, []);
  // Problems found here show as the user types; the others when they save.
  const live: ScheduleErrors = timetable.ok ? {} : timetable.errors;
  const shown = (field: ScheduleField) => errors[field] ?? live[field];

  const words = form.kind === 'cron' ? describeCron(form.cron) : timetable.ok ? describeInterval(timetable.value.interval_s) : null;

  return (
    <ResourceForm name="schedule" boxed editing={editing} label={schedule === null ? 'New schedule' : `Change ${schedule.name}`} title={schedule === null ? 'New schedule' : `Change “${schedule.name}”`} createLabel="Create schedule" onCancel={onCancel}>
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
          <input id={id} type="text" list={zonesId} value={form.timezone} onChange={(e) => change('timezone', e.target.value)} spellCheck={false} autoComplete="off" data-testid="schedule-timezone" />
        )}
      />
      <datalist id={zonesId}>
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
        <PolicyField label="If the previous run is still going" choices={OVERLAP_CHOICES} value={form.overlap} onChange={(value) => change('overlap', value)} testId="schedule-overlap" />
        <PolicyField label="Slots missed during downtime" choices={CATCHUP_CHOICES} value={form.catchup} onChange={(value) => change('catchup', value)} testId="schedule-catchup" />
      </div>
      <Field
        label="Catch-up limit"
        error={errors.catchupLimit}
        hint="At most this many missed slots start (catch-up “all”), or wait (overlap “queue”)."
        render={(id) => (
          <input id={id} type="text" inputMode="numeric" className="schedule-limit" value={form.catchupLimit} onChange={(e) => change('catchupLimit', e.target.value)} data-testid="schedule-catchup-limit" />
        )}
      />
    </ResourceForm>
  );
}
