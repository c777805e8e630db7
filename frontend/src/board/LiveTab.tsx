/** The board's live tab: counters per workflow and state, the run table, retry, handoff and release feeds. */

import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { isAbortError } from '../api/client';
import type { StreamStatus } from '../api/eventStream';
import { earlier, pagePosition, type StreamPosition } from '../api/streamPosition';
import { listRecentEvents } from '../api/events';
import { getRunCounts, queryRuns, type RunQuery } from '../api/runs';
import type { ApiErrorItem, RunCounts, RunEvent, RunListPage, Workflow } from '../api/types';
import { listVersions, type VersionSummary } from '../api/versions';
import { listWorkflows } from '../api/workflows';
import { useDebouncedValue } from '../hooks/useDebouncedValue';
import { useEventStream } from '../hooks/useEventStream';
import { useNow } from '../hooks/useNow';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { totalLabel } from '../ui/format';
import { NO_FILTERS, offsetOf, pageOf, readLiveLocation, writeLiveLocation, type LiveFilters } from './boardUrl';
import { CountsMatrix, Totals } from './Counters';
import { countedWorkflows, countsEvent, countsLoaded, initialCounts, withWorkflowNames, type CountsState } from './counters';
import { Feed } from './Feed';
import { RetentionCard } from './RetentionCard';
import { FEED_HISTORY_KINDS, FEED_HISTORY_LIMIT, feedEvent, feedHistory, initialFeed, type FeedKind, type FeedState } from './feed';
import { RunTable } from './RunTable';
import {
  initialTable,
  pageInfo,
  SORTS,
  STATE_FILTERS,
  stateMattersFor,
  tableEvent,
  tableLoaded,
  type TableState,
} from './runsTable';

const PAGE_SIZE = 25;
// A burst of run events reloads the table at most this often.
const RELOAD_EVERY_MS = 1000;
// Reload now and then anyway: `stuck` is decided by the server from silence.
const REFRESH_EVERY_MS = 20_000;

type CountsAction =
  | { type: 'loaded'; counts: RunCounts }
  | { type: 'event'; event: RunEvent }
  | { type: 'names'; names: Record<string, string> };

function countsReducer(state: CountsState, action: CountsAction): CountsState {
  switch (action.type) {
    case 'loaded':
      return countsLoaded(action.counts.results, pagePosition(action.counts), state.names);
    case 'event':
      return countsEvent(state, action.event);
    case 'names':
      return withWorkflowNames(state, action.names);
  }
}

type TableAction = { type: 'loaded'; page: RunListPage } | { type: 'event'; event: RunEvent; stateMatters: boolean };

type FeedAction = { type: 'history'; events: RunEvent[] } | { type: 'event'; event: RunEvent };

function feedReducer(state: FeedState, action: FeedAction): FeedState {
  return action.type === 'history' ? feedHistory(state, action.events) : feedEvent(state, action.event);
}

const FEEDS: readonly FeedKind[] = ['retry', 'handoff', 'release'];

function tableReducer(state: TableState, action: TableAction): TableState {
  return action.type === 'loaded' ? tableLoaded(state, action.page) : tableEvent(state, action.event, action.stateMatters);
}

type Filters = LiveFilters;

interface LiveTabProps {
  onStatus?: (status: StreamStatus, loaded: boolean) => void;
  /** The tab is shown: it owns the address bar's filters then. */
  active?: boolean;
}

export function LiveTab({ onStatus, active = true }: LiveTabProps) {
  const [counts, dispatchCounts] = useReducer(countsReducer, initialCounts);
  const [table, dispatchTable] = useReducer(tableReducer, initialTable);
  const [feed, dispatchFeed] = useReducer(feedReducer, initialFeed);
  // Where the feeds' history was read (the earliest of the three), once all are in.
  const [feedsAt, setFeedsAt] = useState<StreamPosition | null>(null);
  const [initial] = useState(() => readLiveLocation(window.location.search));
  const [filters, setFilters] = useState<Filters>(() => ({ ...initial, queue: '' }));
  const [queueText, setQueueText] = useState(initial.queue);
  const queue = useDebouncedValue(queueText.trim(), 300);
  const [offset, setOffset] = useState(() => offsetOf(initial.page, PAGE_SIZE));
  const [reloads, setReloads] = useState(0);
  const [loading, setLoading] = useState(true);
  const [countErrors, setCountErrors] = useState<ApiErrorItem[]>([]);
  const [tableErrors, setTableErrors] = useState<ApiErrorItem[]>([]);
  const [workflows, setWorkflows] = useState<Workflow[]>([]);
  const [versions, setVersions] = useState<VersionSummary[]>([]);
  const [streamAfter, setStreamAfter] = useState<number | null>(null);
  const [firstPagePosition, setFirstPagePosition] = useState<StreamPosition | null>(null);
  const [queues, setQueues] = useState<string[]>(['default']);
  const lastLoadAt = useRef(0);
  const now = useNow(1000);

  const query: RunQuery = useMemo(
    () => ({ ...filters, queue, limit: PAGE_SIZE, offset }),
    [filters, queue, offset],
  );
  const stateMatters = stateMattersFor(query);
  const stateMattersRef = useRef(stateMatters);
  stateMattersRef.current = stateMatters;

  // The filters live in the address bar: a change is a history entry (back and
  // forward step through them), and the link shows the same runs to someone else.
  const wroteUrl = useRef(false);
  const queueSettled = queueText.trim() === queue;
  useEffect(() => {
    if (!active || !queueSettled) return;
    const search = writeLiveLocation(window.location.search, { ...filters, queue, page: pageOf(offset, PAGE_SIZE) });
    // The first write only tidies the address the page was opened with.
    const push = wroteUrl.current;
    wroteUrl.current = true;
    if (search === window.location.search) return;
    const url = `${window.location.pathname}${search}`;
    if (push) window.history.pushState(null, '', url);
    else window.history.replaceState(null, '', url);
  }, [active, filters, queue, queueSettled, offset]);

  useEffect(() => {
    const onPop = () => {
      const location = readLiveLocation(window.location.search);
      setFilters({ ...location, queue: '' });
      setQueueText(location.queue);
      setOffset(offsetOf(location.page, PAGE_SIZE));
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  // Counters: one snapshot; live events keep them current afterwards.
  useEffect(() => {
    const controller = new AbortController();
    getRunCounts(controller.signal).then(
      (body) => dispatchCounts({ type: 'loaded', counts: body }),
      (error: unknown) => {
        if (!isAbortError(error)) setCountErrors(errorItems(error));
      },
    );
    return () => controller.abort();
  }, []);

  // The feeds: the latest events from history, then the stream adds live ones (an
  // event both deliver is shown once, by id).
  useEffect(() => {
    const controller = new AbortController();
    const reads = FEEDS.map((kind) =>
      listRecentEvents(FEED_HISTORY_KINDS[kind], FEED_HISTORY_LIMIT, controller.signal).then((body) => {
        dispatchFeed({ type: 'history', events: body.results });
        return pagePosition(body);
      }),
    );
    void Promise.allSettled(reads).then((settled) => {
      if (controller.signal.aborted) return;
      // A feed whose history failed starts empty and fills live; it holds nothing back.
      const read = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      setFeedsAt(read.length > 0 ? read.reduce(earlier) : [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]);
    });
    return () => controller.abort();
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    listWorkflows('', controller.signal).then(
      (page) => {
        setWorkflows(page.results);
        dispatchCounts({ type: 'names', names: Object.fromEntries(page.results.map((w) => [w.slug, w.name])) });
      },
      () => undefined, // The filter falls back to the workflows the counters know.
    );
    return () => controller.abort();
  }, []);

  useEffect(() => {
    setVersions([]);
    if (!filters.workflow) return undefined;
    const controller = new AbortController();
    listVersions(filters.workflow, controller.signal).then(
      (page) => setVersions(page.results.filter((v) => v.status !== 'draft').sort((a, b) => b.number - a.number)),
      () => undefined,
    );
    return () => controller.abort();
  }, [filters.workflow]);

  // The run table: reloaded when the query changes, when live events make it stale,
  // and every REFRESH_EVERY_MS.
  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    lastLoadAt.current = Date.now();
    queryRuns(query, controller.signal).then(
      (page) => {
        dispatchTable({ type: 'loaded', page });
        setFirstPagePosition((first) => first ?? pagePosition(page));
        setTableErrors([]);
        setLoading(false);
      },
      (error: unknown) => {
        if (isAbortError(error)) return;
        setTableErrors(errorItems(error));
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [query, reloads]);

  useEffect(() => {
    if (!table.stale) return undefined;
    const wait = Math.max(0, lastLoadAt.current + RELOAD_EVERY_MS - Date.now());
    const timer = setTimeout(() => setReloads((n) => n + 1), wait);
    return () => clearTimeout(timer);
  }, [table.stale]);

  useEffect(() => {
    const timer = setInterval(() => setReloads((n) => n + 1), REFRESH_EVERY_MS);
    return () => clearInterval(timer);
  }, []);

  // Open the stream once the snapshots are in, after the oldest of them, so that none
  // misses an event (each ignores events it already reflects).
  useEffect(() => {
    if (streamAfter !== null || !counts.loaded || firstPagePosition === null || feedsAt === null) return;
    setStreamAfter(earlier(earlier(counts.last, firstPagePosition), feedsAt)[1]);
  }, [streamAfter, counts.loaded, counts.last, firstPagePosition, feedsAt]);

  const onEvent = useCallback((event: RunEvent) => {
    dispatchCounts({ type: 'event', event });
    dispatchTable({ type: 'event', event, stateMatters: stateMattersRef.current });
    dispatchFeed({ type: 'event', event });
    const seenQueue = queueOf(event);
    if (seenQueue) setQueues((list) => (list.includes(seenQueue) ? list : [...list, seenQueue].sort()));
  }, []);
  const status = useEventStream({
    path: '/ws/board/',
    after: streamAfter ?? 0,
    enabled: streamAfter !== null,
    onEvent,
  });
  const ready = streamAfter !== null;
  useEffect(() => onStatus?.(status, ready), [onStatus, status, ready]);

  const setFilter = (patch: Partial<Filters>) => {
    setFilters((prev) => ({ ...prev, ...patch }));
    setOffset(0);
  };

  const workflowOptions = useMemo(() => {
    const names = new Map<string, string>();
    for (const w of workflows) names.set(w.slug, w.name);
    for (const w of countedWorkflows(counts)) if (!names.has(w.slug)) names.set(w.slug, w.name);
    return [...names.entries()].sort((a, b) => a[1].localeCompare(b[1]));
  }, [workflows, counts]);

  const info = pageInfo(offset, PAGE_SIZE, table.rows.length, table.count);
  const filtered = filters.workflow || filters.version || filters.state || queue;

  return (
    <div className="page-body" data-testid="live-tab">
      <ErrorList errors={countErrors} testId="counts-errors" />
      <Totals counts={counts} />
      <CountsMatrix counts={counts} onPick={(workflow, state) => setFilter({ workflow, state, version: '' })} />

      <section className="card table-card" aria-labelledby="runs-title">
        <div className="section-head">
          <h2 id="runs-title">Runs</h2>
          <div className="toolbar filters">
            <label>
              Workflow{' '}
              <select
                value={filters.workflow}
                onChange={(e) => setFilter({ workflow: e.target.value, version: '' })}
                data-testid="filter-workflow"
              >
                <option value="">All workflows</option>
                {workflowOptions.map(([slug, name]) => (
                  <option key={slug} value={slug}>
                    {name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Version{' '}
              <select
                value={filters.version}
                onChange={(e) => setFilter({ version: e.target.value })}
                disabled={!filters.workflow}
                title={filters.workflow ? undefined : 'Pick a workflow first'}
                data-testid="filter-version"
              >
                <option value="">All versions</option>
                {versions.map((v) => (
                  <option key={v.number} value={String(v.number)}>
                    v{v.number}
                    {v.is_live ? ' (live)' : ''}
                  </option>
                ))}
              </select>
            </label>
            <label>
              State{' '}
              <select value={filters.state} onChange={(e) => setFilter({ state: e.target.value })} data-testid="filter-state">
                {STATE_FILTERS.map((s) => (
                  <option key={s.value} value={s.value}>
                    {s.label}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Queue{' '}
              <input
                className="queue-input"
                value={queueText}
                onChange={(e) => {
                  setQueueText(e.target.value);
                  setOffset(0);
                }}
                placeholder="any"
                list="board-queues"
                data-testid="filter-queue"
              />
              <datalist id="board-queues">
                {queues.map((q) => (
                  <option key={q} value={q} />
                ))}
              </datalist>
            </label>
            <label>
              Sort{' '}
              <select value={filters.sort} onChange={(e) => setFilter({ sort: e.target.value })} data-testid="filter-sort">
                {SORTS.map((s) => (
                  <option key={s.value} value={s.value}>
                    {s.label}
                  </option>
                ))}
              </select>
            </label>
            {filtered ? (
              <button
                type="button"
                className="btn btn-link btn-small"
                onClick={() => {
                  setFilters({ ...NO_FILTERS, sort: filters.sort });
                  setQueueText('');
                  setOffset(0);
                }}
                data-testid="filter-clear"
              >
                Clear filters
              </button>
            ) : null}
          </div>
        </div>
        <ErrorList errors={tableErrors} testId="board-errors" />
        {!table.loaded ? (
          tableErrors.length === 0 ? <p className="muted table-message">Loading runs…</p> : null
        ) : table.rows.length === 0 ? (
          filtered ? (
            <div className="empty" data-testid="board-empty-filtered">
              <p>No runs match these filters.</p>
            </div>
          ) : (
            <div className="empty" data-testid="board-empty">
              <p>
                No runs yet — start one from <a href="/">Workflows</a>. New runs appear here as they start.
              </p>
            </div>
          )
        ) : (
          <RunTable rows={table.rows} now={now} busy={loading} />
        )}
        {table.loaded && table.count > 0 ? (
          <div className="pager" data-testid="pager">
            <span className="muted small" data-testid="pager-info">
              {info.first}–{info.last} of {totalLabel(table.count, table.countCapped)} run{table.count === 1 ? '' : 's'}
            </span>
            <button
              type="button"
              className="btn btn-small"
              disabled={!info.hasPrevious}
              onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}
              data-testid="pager-previous"
            >
              ← Previous
            </button>
            <button
              type="button"
              className="btn btn-small"
              disabled={!info.hasNext}
              onClick={() => setOffset(offset + PAGE_SIZE)}
              data-testid="pager-next"
            >
              Next →
            </button>
          </div>
        ) : null}
      </section>

      <div className="feeds">
        <Feed
          title="Retries"
          items={feed.retry}
          now={now}
          testId="feed-retry"
          empty="No retries yet. Failed attempts, scheduled and deferred retries appear here as they happen."
        />
        <Feed
          title="Handoffs"
          items={feed.handoff}
          now={now}
          testId="feed-handoff"
          empty="No handoff events yet. When a workflow hands a step to a person, its opening, claims and outcomes appear here."
        />
        <Feed
          title="Releases"
          items={feed.release}
          now={now}
          testId="feed-release"
          empty="No release yet. Publishes, canaries and their promotion or abort, and automatic rollbacks appear here."
        />
        <RetentionCard now={now} />
      </div>
    </div>
  );
}

function queueOf(event: RunEvent): string | null {
  if (typeof event.data !== 'object' || event.data === null) return null;
  const queue = (event.data as { queue?: unknown }).queue;
  return typeof queue === 'string' && queue ? queue : null;
}
