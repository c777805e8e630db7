/** The run's logs as a whole: search every attempt's lines, and export them as one text file. */

import './logs.css';
import { useEffect, useState } from 'react';
import { isAbortError } from '../../api/client';
import { useDebouncedValue } from '../../hooks/useDebouncedValue';
import { exportUrl, searchRunLog, type LogText } from './api';
import { highlightParts, matchPlace } from './logLines';

const SEARCH_DELAY_MS = 300;

interface Found {
  query: string;
  matches: LogText[];
  next: number | null;
  clipped: boolean;
}

export function RunLogs({ runId }: { runId: number }) {
  const [query, setQuery] = useState('');
  const debounced = useDebouncedValue(query.trim(), SEARCH_DELAY_MS);
  const [found, setFound] = useState<Found | null>(null);
  // "Search further" moves the cursor of one query; a new query starts at 0.
  const [cursor, setCursor] = useState({ query: '', after: 0 });
  const after = cursor.query === debounced ? cursor.after : 0;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!debounced) return undefined;
    const controller = new AbortController();
    setBusy(true);
    searchRunLog(runId, debounced, after, controller.signal).then(
      (page) => {
        setFound((prev) => ({
          query: debounced,
          matches: after > 0 && prev?.query === debounced ? [...prev.matches, ...page.results] : page.results,
          next: page.next,
          clipped: page.clipped,
        }));
        setError(null);
        setBusy(false);
      },
      (caught: unknown) => {
        if (isAbortError(caught)) return;
        setError(caught instanceof Error ? caught.message : String(caught));
        setBusy(false);
      },
    );
    return () => controller.abort();
  }, [runId, debounced, after]);

  return (
    <section className="card run-logs-card" aria-labelledby="logs-title" data-testid="run-logs">
      <div className="section-head">
        <h2 id="logs-title">Logs</h2>
        <a className="btn btn-small" href={exportUrl(runId)} data-testid="run-log-export">
          Export all (.txt)
        </a>
      </div>
      <p className="muted small">Each attempt's log is under its step above. Search here across every attempt of this run.</p>
      <input
        type="search"
        className="run-log-search"
        placeholder="Search the run's logs…"
        value={query}
        maxLength={200}
        onChange={(event) => setQuery(event.target.value)}
        aria-label="Search the run's logs"
        data-testid="run-log-search"
      />
      {error ? (
        <p className="hint log-error" role="status">
          {error}
        </p>
      ) : null}
      {found !== null && found.query === debounced ? (
        <SearchResults found={found} busy={busy} onMore={() => found.next !== null && setCursor({ query: found.query, after: found.next })} />
      ) : debounced && busy ? (
        <p className="muted small">Searching…</p>
      ) : null}
    </section>
  );
}

function SearchResults({ found, busy, onMore }: { found: Found; busy: boolean; onMore: () => void }) {
  return (
    <div className="run-log-results" data-testid="run-log-results" data-count={found.matches.length}>
      {found.matches.length === 0 && found.next === null ? <p className="muted small">No line holds “{found.query}”.</p> : null}
      <ol className="run-log-matches">
        {found.matches.map((match) => (
          <li key={`${match.attempt}-${match.map_item}-${match.number}-${match.first_line}`} data-testid="run-log-match" data-line={match.first_line}>
            <span className="muted small run-log-place">{matchPlace(match)}</span>
            <code className="run-log-text">
              {highlightParts(match.text, found.query).map((part, i) => (part.hit ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>))}
            </code>
          </li>
        ))}
      </ol>
      {found.clipped ? <p className="muted small">One chunk holds more matches than are shown: search for something longer.</p> : null}
      {found.next !== null ? (
        <button type="button" className="btn btn-small" onClick={onMore} disabled={busy} data-testid="run-log-more">
          {busy ? 'Searching…' : 'Search further'}
        </button>
      ) : null}
    </div>
  );
}
