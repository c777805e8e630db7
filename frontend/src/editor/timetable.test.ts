/** Tests for schedules in words and fire times in a time zone. */

import { describe, expect, it } from 'vitest';
import { describeCron, describeInterval, describeTimetable, formatSlot, formatUntil, hasSeconds, isTimeZone, joinWords } from './timetable';

describe('describeCron', () => {
  it.each([
    ['0 9 * * *', 'every day at 09:00'],
    ['30 17 * * 1-5', 'at 17:30 on weekdays'],
    ['0 9,17 * * *', 'every day at 09:00 and 17:00'],
    ['0 0 1 * *', 'at 00:00 on day 1 of the month'],
    ['0 0 1,15 * *', 'at 00:00 on days 1 and 15 of the month'],
    ['0 8 * * mon', 'at 08:00 on Monday'],
    ['0 8 * * MON,WED,FRI', 'at 08:00 on Monday, Wednesday and Friday'],
    ['0 10 * * 6,0', 'at 10:00 on weekends'],
    ['0 10 * * 2-4', 'at 10:00 from Tuesday to Thursday'],
    ['0 12 * * 7', 'at 12:00 on Sunday'],
    ['0 0 1 1 *', 'at 00:00 on day 1 of the month in January'],
    ['0 6 * jan,jul *', 'at 06:00 in January and July'],
    ['0 6 * 3-6 *', 'at 06:00 from March to June'],
    ['0 0 1 */3 *', 'at 00:00 on day 1 of the month every 3 months'],
    ['0 0 13 * 5', 'at 00:00 on day 13 of the month or on Friday'],
  ])('puts clock times in words: %s', (cron, words) => {
    expect(describeCron(cron)).toBe(words);
  });

  it.each([
    ['* * * * *', 'every minute'],
    ['*/5 * * * *', 'every 5 minutes'],
    ['*/1 * * * *', 'every minute'],
    ['0 * * * *', 'every hour, on the hour'],
    ['15 * * * *', 'every hour at minute 15'],
    ['0 */2 * * *', 'every 2 hours, on the hour'],
    ['30 */6 * * *', 'every 6 hours at minute 30'],
    ['*/15 9-17 * * 1-5', 'every 15 minutes, during hours 9 to 17 on weekdays'],
    ['0,30 * * * *', 'minutes 0 and 30'],
    ['10-20 * * * *', 'minutes 10 to 20'],
  ])('puts repeats in words: %s', (cron, words) => {
    expect(describeCron(cron)).toBe(words);
  });

  it.each([
    ['*/5 * * * * *', 'every 5 seconds'],
    ['* * * * * *', 'every second'],
    ['30 0 9 * * *', 'every day at 09:00:30'],
    ['15 * * * * *', 'every minute at second 15'],
    ['0 15 10 * * *', 'every day at 10:15'],
  ])('reads six fields with the seconds first: %s', (cron, words) => {
    expect(describeCron(cron)).toBe(words);
  });

  it('reads the @ macros', () => {
    expect(describeCron('@daily')).toBe('every day at 00:00');
    expect(describeCron('@hourly')).toBe('every hour, on the hour');
    expect(describeCron('@weekly')).toBe('at 00:00 on Sunday');
  });

  it('gives up on what it cannot say, or malformed expressions', () => {
    expect(describeCron('0 0 L * *')).toBeNull();
    expect(describeCron('0 0 * * 5#3')).toBeNull();
    expect(describeCron('0 9 * *')).toBeNull();
    expect(describeCron('61 * * * *')).toBeNull();
    expect(describeCron('0 24 * * *')).toBeNull();
    expect(describeCron('*-5 * * * *')).toBeNull();
    expect(describeCron('*/0 * * * *')).toBeNull();
    expect(describeCron('')).toBeNull();
  });
});

describe('describeInterval', () => {
  it('picks the largest whole unit', () => {
    expect(describeInterval(1)).toBe('every second');
    expect(describeInterval(30)).toBe('every 30 seconds');
    expect(describeInterval(60)).toBe('every minute');
    expect(describeInterval(90)).toBe('every 90 seconds');
    expect(describeInterval(300)).toBe('every 5 minutes');
    expect(describeInterval(7200)).toBe('every 2 hours');
    expect(describeInterval(86400)).toBe('every day');
    expect(describeInterval(172800)).toBe('every 2 days');
  });

  it('refuses what is not a whole number of seconds from 1', () => {
    expect(describeInterval(0)).toBeNull();
    expect(describeInterval(1.5)).toBeNull();
    expect(describeInterval(null)).toBeNull();
  });
});

describe('describeTimetable', () => {
  it('falls back to the raw expression', () => {
    expect(describeTimetable({ kind: 'cron', cron: '0 0 L * *', interval_s: null })).toBe('cron 0 0 L * *');
    expect(describeTimetable({ kind: 'interval', cron: '', interval_s: 600 })).toBe('every 10 minutes');
  });
});

describe('joinWords', () => {
  it('joins with commas and a final "and"', () => {
    expect(joinWords([])).toBe('');
    expect(joinWords(['a'])).toBe('a');
    expect(joinWords(['a', 'b'])).toBe('a and b');
    expect(joinWords(['a', 'b', 'c'])).toBe('a, b and c');
  });
});

describe('time zones and times', () => {
  it('knows IANA names and refuses others', () => {
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone('')).toBe(false);
    expect(isTimeZone(' UTC')).toBe(false);
  });

  it('shows a fire time in the schedule zone', () => {
    const iso = '2025-01-06T08:00:00+00:00';
    // ICU versions differ on the comma after the weekday.
    expect(formatSlot(iso, 'Europe/Paris', { locale: 'en-GB' })).toMatch(/^Mon,? 6 Jan 2025, 09:00$/);
    expect(formatSlot(iso, 'America/New_York', { locale: 'en-GB' })).toMatch(/^Mon,? 6 Jan 2025, 03:00$/);
    expect(formatSlot('2025-07-01T07:00:05Z', 'Europe/Paris', { seconds: true, locale: 'en-GB' })).toMatch(/^Tue,? 1 Jul 2025, 09:00:05$/);
    expect(formatSlot('nonsense', 'UTC')).toBe('—');
  });

  it('shows seconds only when a time has them', () => {
    expect(hasSeconds(['2025-01-06T08:00:00Z', '2025-01-06T08:01:00Z'])).toBe(false);
    expect(hasSeconds(['2025-01-06T08:00:00Z', '2025-01-06T08:00:05Z'])).toBe(true);
  });

  it('says how far ahead a time is', () => {
    const now = Date.parse('2025-01-06T08:00:00Z');
    expect(formatUntil('2025-01-06T08:00:30Z', now)).toBe('in 30 s');
    expect(formatUntil('2025-01-06T08:05:00Z', now)).toBe('in 5 min');
    expect(formatUntil('2025-01-06T11:00:00Z', now)).toBe('in 3 h');
    expect(formatUntil('2025-01-10T08:00:00Z', now)).toBe('in 4 d');
    expect(formatUntil('2025-01-06T07:59:00Z', now)).toBe('now');
    expect(formatUntil(null, now)).toBe('—');
  });
});
