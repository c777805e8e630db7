/** The schedule form as text fields, checked and turned into what the API takes (no React). */

import type { CatchupPolicy, OverlapPolicy, Schedule, ScheduleInput, ScheduleKind, TimetableInput } from '../api/schedules';
import { isTimeZone } from './timetable';

export type IntervalUnit = 's' | 'min' | 'h' | 'd';

// {unit: seconds}
export const UNIT_SECONDS: Record<IntervalUnit, number> = { s: 1, min: 60, h: 3600, d: 86400 };

export const MAX_CATCHUP_LIMIT = 1000;

export interface ScheduleForm {
  name: string;
  kind: ScheduleKind;
  cron: string;
  interval: string;
  intervalUnit: IntervalUnit;
  timezone: string;
  input: string; // JSON text
  overlap: OverlapPolicy;
  catchup: CatchupPolicy;
  catchupLimit: string;
}

export type ScheduleField = keyof ScheduleForm;
export type ScheduleErrors = Partial<Record<ScheduleField, string>>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: ScheduleErrors };

/** The overlap choices, each with what it does in one line. */
export const OVERLAP_CHOICES: readonly { value: OverlapPolicy; label: string; text: string }[] = [
  { value: 'skip', label: 'Skip the slot', text: 'While the previous run is still going, a slot starts nothing.' },
  { value: 'queue', label: 'Queue it', text: 'The slot waits and starts when the previous run ends.' },
  { value: 'allow', label: 'Start anyway', text: 'Every slot starts a run; runs may overlap.' },
  { value: 'cancel_previous', label: 'Cancel the previous run', text: 'The run still going is cancelled, then the slot starts.' },
];

/** The catch-up choices: what happens to slots missed while the scheduler was down. */
export const CATCHUP_CHOICES: readonly { value: CatchupPolicy; label: string; text: string }[] = [
  { value: 'none', label: 'None', text: 'Only a slot at most a minute late starts a run; the others missed are dropped.' },
  { value: 'latest', label: 'Latest only', text: 'After downtime, only the latest missed slot starts a run.' },
  { value: 'all', label: 'All (up to the limit)', text: 'After downtime, every missed slot starts a run, the newest up to the limit.' },
];

/** Return the one-line explanation of a policy value. */
export function policyText(choices: readonly { value: string; text: string }[], value: string): string {
  return choices.find((c) => c.value === value)?.text ?? '';
}

/** Return the label of a policy value, for the list. */
export function policyLabel(choices: readonly { value: string; label: string }[], value: string): string {
  return choices.find((c) => c.value === value)?.label ?? value;
}

export function emptyForm(timezone: string): ScheduleForm {
  return {
    name: '',
    kind: 'cron',
    cron: '0 9 * * *',
    interval: '1',
    intervalUnit: 'h',
    timezone,
    input: '{}',
    overlap: 'skip',
    catchup: 'latest',
    catchupLimit: '10',
  };
}

/** Return the largest unit that divides an interval: 7200 s → "2" h. */
export function intervalParts(seconds: number | null): { interval: string; intervalUnit: IntervalUnit } {
  if (seconds === null || seconds < 1) return { interval: '1', intervalUnit: 'h' };
  for (const unit of ['d', 'h', 'min'] as const) {
    if (seconds % UNIT_SECONDS[unit] === 0) return { interval: String(seconds / UNIT_SECONDS[unit]), intervalUnit: unit };
  }
  return { interval: String(seconds), intervalUnit: 's' };
}

export function formOf(schedule: Schedule): ScheduleForm {
  return {
    name: schedule.name,
    kind: schedule.kind,
    cron: schedule.kind === 'cron' ? schedule.cron : '0 9 * * *',
    ...intervalParts(schedule.interval_s),
    timezone: schedule.timezone,
    input: JSON.stringify(schedule.input ?? {}, null, 2),
    overlap: schedule.overlap,
    catchup: schedule.catchup,
    catchupLimit: String(schedule.catchup_limit),
  };
}

/** Parse the input text: empty for {}, else a JSON object. */
export function parseInputObject(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (error) {
    return { ok: false, message: `Not valid JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: 'The input must be a JSON object, such as {"report": "daily"}.' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

function intervalSeconds(form: ScheduleForm): number | string {
  const text = form.interval.trim();
  if (!/^\d+$/.test(text) || Number(text) < 1) return 'Enter a whole number from 1.';
  return Number(text) * UNIT_SECONDS[form.intervalUnit];
}

function cronProblem(cron: string): string | null {
  const fields = cron.trim().split(/\s+/).filter(Boolean);
  if (fields.length === 0) return 'Enter a cron expression, such as 0 9 * * 1-5.';
  if (fields.length === 1 && fields[0]!.startsWith('@')) return null;
  if (fields.length !== 5 && fields.length !== 6) {
    return `A cron expression has 5 fields (minute hour day month weekday), or 6 with the seconds first; this one has ${fields.length}.`;
  }
  return null;
}

function timeZoneProblem(name: string): string | null {
  return isTimeZone(name.trim()) ? null : `Unknown time zone "${name.trim()}": pick an IANA name such as Europe/Paris or UTC.`;
}

/**
 * Return the timetable to preview, or what is wrong with it here (no request is sent
 * for a timetable we know is bad; the server checks the rest).
 */
export function timetableOf(form: ScheduleForm): Parsed<TimetableInput> {
  const errors: ScheduleErrors = {};
  const zone = timeZoneProblem(form.timezone);
  if (zone) errors.timezone = zone;
  let interval: number | null = null;
  if (form.kind === 'cron') {
    const problem = cronProblem(form.cron);
    if (problem) errors.cron = problem;
  } else {
    const seconds = intervalSeconds(form);
    if (typeof seconds === 'string') errors.interval = seconds;
    else interval = seconds;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      kind: form.kind,
      cron: form.kind === 'cron' ? form.cron.trim() : '',
      interval_s: interval,
      timezone: form.timezone.trim(),
    },
  };
}

/** Check the whole form and return the schedule to send. */
export function scheduleOf(form: ScheduleForm): Parsed<ScheduleInput> {
  const timetable = timetableOf(form);
  const errors: ScheduleErrors = timetable.ok ? {} : { ...timetable.errors };
  const name = form.name.trim();
  if (name === '') errors.name = 'Give the schedule a name.';
  else if (name.length > 200) errors.name = 'At most 200 characters.';
  const input = parseInputObject(form.input);
  if (!input.ok) errors.input = input.message;
  const limitText = form.catchupLimit.trim();
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > MAX_CATCHUP_LIMIT) {
    errors.catchupLimit = `Enter a whole number from 1 to ${MAX_CATCHUP_LIMIT}.`;
  }
  if (!timetable.ok || !input.ok || Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: { name, ...timetable.value, input: input.value, overlap: form.overlap, catchup: form.catchup, catchup_limit: limit },
  };
}

/**
 * Return only the fields that differ from the saved schedule: the server counts an
 * interval again from now when `interval_s` or `kind` is sent, so unchanged ones are not.
 */
export function changedFields(saved: Schedule, next: ScheduleInput): Partial<ScheduleInput> {
  const patch: Partial<ScheduleInput> = {};
  const keys = Object.keys(next) as (keyof ScheduleInput)[];
  for (const key of keys) {
    if (JSON.stringify(saved[key]) !== JSON.stringify(next[key])) {
      (patch as Record<string, unknown>)[key] = next[key];
    }
  }
  // Switching kind needs the new kind's field even if it looks unchanged.
  if ('kind' in patch) {
    if (next.kind === 'cron') patch.cron = next.cron;
    else patch.interval_s = next.interval_s;
  }
  return patch;
}

/** Turn backfill inputs (datetime-local, the browser's time) into an ISO range in the past. */
export function backfillRange(start: string, end: string, now: number): { ok: true; start: string; end: string } | { ok: false; message: string } {
  if (start === '' || end === '') return { ok: false, message: 'Pick a start and an end.' };
  const from = new Date(start).getTime();
  const to = new Date(end).getTime();
  if (Number.isNaN(from) || Number.isNaN(to)) return { ok: false, message: 'Pick a start and an end.' };
  if (from >= to) return { ok: false, message: 'The start must come before the end.' };
  if (to > now) return { ok: false, message: 'A backfill covers the past only: pick an end before now.' };
  return { ok: true, start: new Date(from).toISOString(), end: new Date(to).toISOString() };
}

/** Return a datetime-local value for a moment, in the browser's time: "2025-01-06T09:00". */
export function toLocalInput(ms: number): string {
  const at = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}
