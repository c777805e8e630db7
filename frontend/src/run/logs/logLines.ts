/** Plain functions of the log panels: lines from chunks, the rows a scrolled view shows, search highlights. */

import type { LogText } from './api';

/** An attempt's lines as read so far. */
export interface LogLines {
  lines: readonly string[];
  /** Line number of each line (chunks a failed write lost leave gaps). */
  numbers: readonly number[];
  /** The marker line saying what the size bound dropped, if it came. */
  marker: string | null;
  /** The seq of the last chunk read. */
  after: number;
}

export const EMPTY_LINES: LogLines = { lines: [], numbers: [], marker: null, after: 0 };

/** Return `log` with `chunks` (in seq order) appended; a chunk already read is skipped. */
export function appendChunks(log: LogLines, chunks: readonly LogText[]): LogLines {
  const fresh = chunks.filter((c) => c.seq > log.after);
  if (fresh.length === 0) return log;
  const lines = log.lines.slice();
  const numbers = log.numbers.slice();
  let marker = log.marker;
  for (const chunk of fresh) {
    if (chunk.truncated) marker = chunk.text;
    chunk.text.split('\n').forEach((line, i) => {
      lines.push(line);
      numbers.push(chunk.first_line + i);
    });
  }
  return { lines, numbers, marker, after: fresh.reduce((last, c) => Math.max(last, c.seq), log.after) };
}

/** Return the rows [start, end) to draw for a view scrolled to `scrollTop`. */
export function visibleRows(scrollTop: number, viewHeight: number, rowHeight: number, count: number, overscan = 20): { start: number; end: number } {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const shown = Math.ceil(viewHeight / rowHeight);
  return { start: Math.max(0, first - overscan), end: Math.min(count, first + shown + overscan) };
}

/** Say whether a view is scrolled to its end (within `slack` pixels). */
export function atBottom(scrollTop: number, scrollHeight: number, clientHeight: number, slack: number): boolean {
  return scrollHeight - scrollTop - clientHeight <= slack;
}

/** Split `text` around each occurrence of `query`, any case, for highlighting. */
export function highlightParts(text: string, query: string): { text: string; hit: boolean }[] {
  const lower = text.toLowerCase();
  // Lower case of a few characters is longer: offsets would not match, so no marks.
  if (!query || lower.length !== text.length) return [{ text, hit: false }];
  const needle = query.toLowerCase();
  const parts: { text: string; hit: boolean }[] = [];
  let from = 0;
  for (let at = lower.indexOf(needle); at !== -1 && needle.length > 0; at = lower.indexOf(needle, from)) {
    if (at > from) parts.push({ text: text.slice(from, at), hit: false });
    parts.push({ text: text.slice(at, at + needle.length), hit: true });
    from = at + needle.length;
  }
  if (from < text.length) parts.push({ text: text.slice(from), hit: false });
  return parts;
}

/** Describe where a found line is: its step, attempt (or item) and line number. */
export function matchPlace(match: LogText): string {
  const owner = match.map_item !== null ? `item ${match.map_item} · attempt ${match.number}` : `attempt ${match.number}`;
  return `${match.node_id} · ${owner} · line ${match.first_line}`;
}
