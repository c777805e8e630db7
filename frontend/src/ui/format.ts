/** Format times and durations for tables (plain TS, no React). */

/** Return "just now", "5 min ago", "3 h ago", "2 d ago", or a date for older times. */
export function formatRelative(iso: string | null, now: number): string {
  if (!iso) return '—';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '—';
  const seconds = Math.round((now - then) / 1000);
  if (seconds < 10) return 'just now'; // Also absorbs small clock skew (future times).
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  if (days < 30) return `${days} d ago`;
  return new Date(then).toLocaleDateString();
}

/** Return "850 ms", "12.3 s", "4 m 05 s" or "2 h 03 m". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.floor(seconds);
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes} m ${String(whole % 60).padStart(2, '0')} s`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${String(minutes % 60).padStart(2, '0')} m`;
}

/** Return how long a run has taken: until it finished, or until now while it is open. */
export function runDuration(
  run: { started_at: string | null; finished_at: string | null },
  now: number,
): string {
  if (!run.started_at) return '—';
  const start = Date.parse(run.started_at);
  const end = run.finished_at ? Date.parse(run.finished_at) : now;
  return formatDuration(end - start);
}

/** Return a full local date and time, for tooltips. */
export function formatDateTime(iso: string | null): string {
  if (!iso) return '';
  const then = Date.parse(iso);
  return Number.isNaN(then) ? '' : new Date(then).toLocaleString();
}

/** Return a state name for people: "compensation_failed" → "compensation failed". */
export function stateLabel(state: string): string {
  return state.replace(/_/g, ' ');
}

/** Return seconds for people: "0 ms", "340 ms", "2.35 s", "1 m 05 s", or "no data" for null. */
export function formatSeconds(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'no data';
  if (value < 1) return `${Math.round(value * 1000)} ms`;
  if (value < 10) return `${value.toFixed(2)} s`;
  return formatDuration(value * 1000);
}

/** Return an ISO time as "14:03:07.250" (local), for event timelines. */
export function formatClock(iso: string | null): string {
  if (!iso) return '—';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '—';
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`;
}

/** A list's total as people read it: "1,234", or "10,000+" when the server stopped counting. */
export function totalLabel(count: number, capped = false): string {
  return capped ? `${Math.max(0, count - 1).toLocaleString('en')}+` : count.toLocaleString('en');
}
