/** Say when a schedule fires in words, and show fire times in a time zone (no React). */

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
// {alias: number}, as croniter reads them
const DAY_ALIASES: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const MONTH_ALIASES: Record<string, number> = Object.fromEntries(MONTHS.map((m, i) => [m.slice(0, 3).toLowerCase(), i + 1]));
const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** One comma-separated part of a cron field: `5`, `1-5`, `*`, `*\/15`, `10-50/10`. */
interface Item {
  from: number | '*';
  to: number | null;
  step: number | null;
}

interface FieldSpec {
  min: number;
  max: number;
  aliases?: Record<string, number>;
}

const SECOND: FieldSpec = { min: 0, max: 59 };
const MINUTE: FieldSpec = { min: 0, max: 59 };
const HOUR: FieldSpec = { min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { min: 1, max: 31 };
const MONTH: FieldSpec = { min: 1, max: 12, aliases: MONTH_ALIASES };
const WEEKDAY: FieldSpec = { min: 0, max: 7, aliases: DAY_ALIASES };

function parseNumber(text: string, spec: FieldSpec): number | null {
  const alias = spec.aliases?.[text.toLowerCase()];
  if (alias !== undefined) return alias;
  if (!/^\d+$/.test(text)) return null;
  const n = Number(text);
  return n >= spec.min && n <= spec.max ? n : null;
}

/** Parse a field into items, or null for what we do not put in words (L, W, #, ?). */
function parseField(text: string, spec: FieldSpec): Item[] | null {
  const items: Item[] = [];
  for (const part of text.split(',')) {
    const match = /^(\*|[a-z0-9]+)(?:-([a-z0-9]+))?(?:\/(\d+))?$/i.exec(part);
    if (match === null) return null;
    const [, fromText = '', toText, stepText] = match;
    const from = fromText === '*' ? '*' : parseNumber(fromText, spec);
    const to = toText === undefined ? null : parseNumber(toText, spec);
    const step = stepText === undefined ? null : Number(stepText);
    if (from === null || (toText !== undefined && (to === null || from === '*'))) return null;
    if (step !== null && step < 1) return null;
    items.push({ from, to, step });
  }
  return items;
}

const isAny = (f: Item[]) => f.length === 1 && f[0]!.from === '*' && f[0]!.step === null;
const stepOf = (f: Item[]) => (f.length === 1 && f[0]!.from === '*' && f[0]!.step !== null ? f[0]!.step : null);
const singles = (f: Item[]): number[] | null =>
  f.every((i) => typeof i.from === 'number' && i.to === null && i.step === null) ? f.map((i) => i.from as number) : null;

/** Join words: "a", "a and b", "a, b and c". */
export function joinWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

const plural = (n: number, unit: string) => (n === 1 ? unit : `${n} ${unit}s`);
const pad = (n: number) => String(n).padStart(2, '0');

function itemWords(item: Item, name: (n: number) => string, unit: string): string {
  if (item.from === '*') return item.step === null ? `every ${unit}` : `every ${plural(item.step, unit)}`;
  const from = name(item.from);
  if (item.step !== null) {
    const until = item.to === null ? '' : ` to ${name(item.to)}`;
    return `every ${plural(item.step, unit)} from ${from}${until}`;
  }
  return item.to === null ? from : `${from} to ${name(item.to)}`;
}

/** "minute 5", "minutes 0 and 30", "every 5 minutes", "minutes 10 to 20". */
function fieldWords(f: Item[], unit: string, name: (n: number) => string = String): string {
  const step = stepOf(f);
  if (isAny(f)) return `every ${unit}`;
  if (step !== null) return `every ${plural(step, unit)}`;
  const list = singles(f);
  const label = list !== null && list.length === 1 ? unit : `${unit}s`;
  const words = joinWords(f.map((item) => itemWords(item, name, unit)));
  return f.some((i) => i.step !== null) ? words : `${label} ${words}`;
}

function timeWords(sec: Item[], min: Item[], hour: Item[]): { text: string; atClock: boolean } {
  const s = singles(sec);
  const m = singles(min);
  const h = singles(hour);
  const secZero = s !== null && s.length === 1 && s[0] === 0;
  if (s?.length === 1 && m?.length === 1 && h !== null && h.length <= 6) {
    const clock = (hh: number) => `${pad(hh)}:${pad(m[0]!)}${secZero ? '' : `:${pad(s[0]!)}`}`;
    return { text: `at ${joinWords(h.map(clock))}`, atClock: true };
  }
  if (isAny(hour)) {
    if (isAny(sec)) return { text: isAny(min) ? 'every second' : `every second, ${fieldWords(min, 'minute')}`, atClock: false };
    if (stepOf(sec) !== null && isAny(min)) return { text: `every ${plural(stepOf(sec)!, 'second')}`, atClock: false };
    if (secZero && isAny(min)) return { text: 'every minute', atClock: false };
    if (s?.length === 1 && isAny(min)) return { text: `every minute at second ${s[0]}`, atClock: false };
    if (secZero && stepOf(min) !== null) return { text: `every ${plural(stepOf(min)!, 'minute')}`, atClock: false };
  }
  if (s?.length === 1 && m?.length === 1 && (isAny(hour) || stepOf(hour) !== null)) {
    const every = `every ${plural(stepOf(hour) ?? 1, 'hour')}`;
    if (m[0] === 0 && secZero) return { text: `${every}, on the hour`, atClock: false };
    return { text: `${every} at minute ${m[0]}${secZero ? '' : `, second ${s[0]}`}`, atClock: false };
  }
  const parts = [
    secZero ? '' : fieldWords(sec, 'second'),
    isAny(min) && !secZero ? '' : fieldWords(min, 'minute'),
    isAny(hour) ? '' : stepOf(hour) !== null ? fieldWords(hour, 'hour') : `during ${fieldWords(hour, 'hour')}`,
  ];
  return { text: parts.filter(Boolean).join(', '), atClock: false };
}

function weekdayWords(f: Item[]): string {
  const day = (n: number) => DAYS[n % 7]!;
  const list = singles(f);
  const key = list === null ? '' : [...new Set(list.map((n) => n % 7))].sort().join(',');
  if (key === '0,6') return 'on weekends';
  if (f.length === 1 && f[0]!.from === 1 && f[0]!.to === 5 && f[0]!.step === null) return 'on weekdays';
  if (list !== null) return `on ${joinWords(list.map(day))}`;
  if (f.length === 1 && f[0]!.to !== null && f[0]!.step === null) return `from ${day(f[0]!.from as number)} to ${day(f[0]!.to)}`;
  return `on ${fieldWords(f, 'weekday', day)}`;
}

function dayOfMonthWords(f: Item[]): string {
  const step = stepOf(f);
  if (step !== null) return `every ${plural(step, 'day')} of the month`;
  return `on ${fieldWords(f, 'day')} of the month`;
}

function monthWords(f: Item[]): string {
  const month = (n: number) => MONTHS[n - 1]!;
  const step = stepOf(f);
  if (step !== null) return `every ${plural(step, 'month')}`;
  const list = singles(f);
  if (list !== null) return `in ${joinWords(list.map(month))}`;
  if (f.length === 1 && f[0]!.to !== null && f[0]!.step === null) return `from ${month(f[0]!.from as number)} to ${month(f[0]!.to)}`;
  return `in ${fieldWords(f, 'month', month)}`;
}

/**
 * Say when a cron expression fires: "every day at 09:00", "every 15 minutes on
 * weekdays". Five fields (minute hour day month weekday) or six with the seconds
 * first, as the server reads them. Null when the expression has constructs we do not
 * put in words (L, W, #) or is malformed: show the expression itself then.
 */
export function describeCron(expression: string): string | null {
  const trimmed = expression.trim();
  const fields = (MACROS[trimmed.toLowerCase()] ?? trimmed).split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return null;
  const texts = fields.length === 6 ? fields : ['0', ...fields];
  const specs = [SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, WEEKDAY];
  const parsed = texts.map((text, i) => parseField(text, specs[i]!));
  if (parsed.some((p) => p === null)) return null;
  const [sec, min, hour, dom, month, dow] = parsed as Item[][];
  const time = timeWords(sec!, min!, hour!);
  const days: string[] = [];
  if (!isAny(dom!)) days.push(dayOfMonthWords(dom!));
  if (!isAny(dow!)) days.push(weekdayWords(dow!));
  // Cron fires when either day field matches, if both are restricted.
  const dayText = days.join(' or ');
  const monthText = isAny(month!) ? '' : monthWords(month!);
  if (time.atClock && dayText === '' && monthText === '') return `every day ${time.text}`;
  return [time.text, dayText, monthText].filter(Boolean).join(' ');
}

/** Say how often an interval fires: "every 30 seconds", "every 2 hours", "every 90 seconds". */
export function describeInterval(seconds: number | null | undefined): string | null {
  if (seconds === null || seconds === undefined || !Number.isInteger(seconds) || seconds < 1) return null;
  for (const [unit, size] of [
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
  ] as const) {
    if (seconds % size === 0) return `every ${plural(seconds / size, unit)}`;
  }
  return `every ${plural(seconds, 'second')}`;
}

/** Say when a saved or unsaved timetable fires, falling back to its raw expression. */
export function describeTimetable(t: { kind: string; cron: string; interval_s: number | null }): string {
  if (t.kind === 'interval') return describeInterval(t.interval_s) ?? `every ${t.interval_s ?? '?'} seconds`;
  return describeCron(t.cron) ?? `cron ${t.cron}`;
}

/** The browser's time zone, e.g. "Europe/Paris". */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Say whether a name is a time zone this browser knows (IANA names, "UTC"). */
export function isTimeZone(name: string): boolean {
  if (name.trim() === '' || name !== name.trim()) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Return a fire time in a zone: "Mon 6 Jan 2025, 09:00" (seconds when asked). */
export function formatSlot(iso: string, timeZone: string, { seconds = false, locale }: { seconds?: boolean; locale?: string } = {}): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '—';
  try {
    return new Intl.DateTimeFormat(locale, {
      timeZone,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: seconds ? '2-digit' : undefined,
      hourCycle: 'h23',
    }).format(at);
  } catch {
    return at.toISOString(); // An unknown zone: the UTC time is still true.
  }
}

/** Say whether any of the times has seconds (then show them). */
export function hasSeconds(isos: readonly string[]): boolean {
  return isos.some((iso) => {
    const t = Date.parse(iso);
    return !Number.isNaN(t) && t % 60000 !== 0;
  });
}

/** Return how far ahead a time is: "in 40 s", "in 5 min", "in 3 h", "in 2 d", "now". */
export function formatUntil(iso: string | null, now: number): string {
  if (!iso) return '—';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '—';
  const seconds = Math.round((then - now) / 1000);
  if (seconds <= 0) return 'now';
  if (seconds < 60) return `in ${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `in ${hours} h`;
  return `in ${Math.round(hours / 24)} d`;
}
