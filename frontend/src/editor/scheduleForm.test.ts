/** Tests for the schedule form: checks, the body it sends, the fields a change sends, backfill ranges. */

import { describe, expect, it } from 'vitest';
import type { Schedule } from '../api/schedules';
import {
  backfillRange,
  CATCHUP_CHOICES,
  changedFields,
  emptyForm,
  formOf,
  intervalParts,
  OVERLAP_CHOICES,
  parseInputObject,
  policyLabel,
  policyText,
  scheduleOf,
  timetableOf,
  toLocalInput,
  type ScheduleForm,
} from './scheduleForm';

const form = (overrides: Partial<ScheduleForm> = {}): ScheduleForm => ({ ...emptyForm('Europe/Paris'), name: 'nightly', ...overrides });

const saved: Schedule = {
  id: 4,
  workflow: 'orders',
  name: 'nightly',
  kind: 'interval',
  cron: '',
  interval_s: 7200,
  timezone: 'UTC',
  input: { report: 'daily' },
  overlap: 'skip',
  catchup: 'latest',
  catchup_limit: 10,
  state: 'active',
  trigger: 'schedule:4',
  next_fire_at: '2025-01-06T10:00:00Z',
  last_slot_at: null,
  next_fire_times: [],
  created_at: '2025-01-06T08:00:00Z',
  updated_at: '2025-01-06T08:00:00Z',
};

describe('parseInputObject', () => {
  it('takes an object, and empty text as {}', () => {
    expect(parseInputObject('{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseInputObject('  ')).toEqual({ ok: true, value: {} });
  });

  it('refuses broken JSON and anything but an object', () => {
    expect(parseInputObject('{a: 1}')).toMatchObject({ ok: false, message: expect.stringMatching(/^Not valid JSON/) });
    for (const text of ['[1]', '3', 'null', '"x"']) {
      expect(parseInputObject(text)).toMatchObject({ ok: false, message: expect.stringMatching(/must be a JSON object/) });
    }
  });
});

describe('timetableOf', () => {
  it('sends a cron expression trimmed, without an interval', () => {
    expect(timetableOf(form({ cron: '  */5 * * * * * ' }))).toEqual({
      ok: true,
      value: { kind: 'cron', cron: '*/5 * * * * *', interval_s: null, timezone: 'Europe/Paris' },
    });
  });

  it('turns an interval and its unit into seconds', () => {
    expect(timetableOf(form({ kind: 'interval', interval: '90', intervalUnit: 'min' }))).toMatchObject({
      ok: true,
      value: { kind: 'interval', cron: '', interval_s: 5400 },
    });
  });

  it('says what is wrong before asking the server', () => {
    expect(timetableOf(form({ cron: '' }))).toMatchObject({ ok: false, errors: { cron: expect.stringMatching(/Enter a cron/) } });
    expect(timetableOf(form({ cron: '0 9 * *' }))).toMatchObject({ ok: false, errors: { cron: expect.stringMatching(/this one has 4/) } });
    expect(timetableOf(form({ cron: '@daily' })).ok).toBe(true);
    expect(timetableOf(form({ kind: 'interval', interval: '0' }))).toMatchObject({ ok: false, errors: { interval: expect.any(String) } });
    expect(timetableOf(form({ kind: 'interval', interval: '1.5' }))).toMatchObject({ ok: false, errors: { interval: expect.any(String) } });
    expect(timetableOf(form({ timezone: 'Europe/Atlantis' }))).toMatchObject({ ok: false, errors: { timezone: expect.stringMatching(/Unknown time zone/) } });
  });
});

describe('scheduleOf', () => {
  it('returns the body to send', () => {
    const parsed = scheduleOf(form({ name: ' nightly ', input: '{"report": "daily"}', overlap: 'queue', catchup: 'all', catchupLimit: '50' }));
    expect(parsed).toEqual({
      ok: true,
      value: {
        name: 'nightly',
        kind: 'cron',
        cron: '0 9 * * *',
        interval_s: null,
        timezone: 'Europe/Paris',
        input: { report: 'daily' },
        overlap: 'queue',
        catchup: 'all',
        catchup_limit: 50,
      },
    });
  });

  it('names every bad field at once', () => {
    const parsed = scheduleOf(form({ name: '', cron: 'x', input: '[]', catchupLimit: '1001' }));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(Object.keys(parsed.errors).sort()).toEqual(['catchupLimit', 'cron', 'input', 'name']);
  });
});

describe('formOf and changedFields', () => {
  it('shows an interval in its largest whole unit', () => {
    expect(intervalParts(7200)).toEqual({ interval: '2', intervalUnit: 'h' });
    expect(intervalParts(86400 * 3)).toEqual({ interval: '3', intervalUnit: 'd' });
    expect(intervalParts(90)).toEqual({ interval: '90', intervalUnit: 's' });
    expect(intervalParts(null)).toEqual({ interval: '1', intervalUnit: 'h' });
  });

  it('sends nothing for an unchanged schedule', () => {
    const parsed = scheduleOf(formOf(saved));
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(changedFields(saved, parsed.value)).toEqual({});
  });

  it('sends only what changed, so an interval is not counted again from now', () => {
    const parsed = scheduleOf({ ...formOf(saved), name: 'renamed', input: '{"report": "weekly"}' });
    if (!parsed.ok) throw new Error('expected a valid form');
    expect(changedFields(saved, parsed.value)).toEqual({ name: 'renamed', input: { report: 'weekly' } });
  });

  it('sends the new kind with its timetable', () => {
    const parsed = scheduleOf({ ...formOf(saved), kind: 'cron', cron: '0 9 * * *' });
    if (!parsed.ok) throw new Error('expected a valid form');
    expect(changedFields(saved, parsed.value)).toEqual({ kind: 'cron', cron: '0 9 * * *', interval_s: null });
  });
});

describe('policies', () => {
  it('explains every choice in one line', () => {
    for (const choice of [...OVERLAP_CHOICES, ...CATCHUP_CHOICES]) expect(choice.text).toMatch(/\.$/);
    expect(policyText(OVERLAP_CHOICES, 'queue')).toMatch(/previous run ends/);
    expect(policyLabel(CATCHUP_CHOICES, 'none')).toBe('None');
    expect(policyLabel(CATCHUP_CHOICES, 'odd')).toBe('odd');
  });
});

describe('backfillRange', () => {
  const now = Date.parse('2025-01-06T12:00:00Z');

  it('reads the browser time and returns ISO times', () => {
    const start = Date.parse('2025-01-05T00:00:00Z');
    const end = Date.parse('2025-01-06T00:00:00Z');
    expect(backfillRange(toLocalInput(start), toLocalInput(end), now)).toEqual({
      ok: true,
      start: '2025-01-05T00:00:00.000Z',
      end: '2025-01-06T00:00:00.000Z',
    });
  });

  it('refuses an empty, reversed or future range', () => {
    expect(backfillRange('', '2025-01-06T00:00', now)).toMatchObject({ ok: false });
    expect(backfillRange('2025-01-06T00:00', '2025-01-05T00:00', now)).toMatchObject({ ok: false, message: expect.stringMatching(/before the end/) });
    expect(backfillRange('2025-01-05T00:00', '2025-02-01T00:00', now)).toMatchObject({ ok: false, message: expect.stringMatching(/past only/) });
  });
});
