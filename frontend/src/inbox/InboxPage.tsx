/** The handoff inbox: what waits for me and my groups, all active handoffs, completed ones; live. */

import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, isAbortError } from '../api/client';
import { getHandoff, listHandoffs, type Handoff, type HandoffEvent, type HandoffPage } from '../api/handoffs';
import type { ApiErrorItem } from '../api/types';
import { useEventStream } from '../hooks/useEventStream';
import { useMe } from '../hooks/useMe';
import { useNow } from '../hooks/useNow';
import { ConnectionIndicator } from '../ui/ConnectionIndicator';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { roleNotice } from '../ui/permissions';
import { HandoffCard, type Notice } from './HandoffCard';
import {
  clampOffset,
  eventChangesList,
  groupHandoffs,
  pageInfo,
  PAGE_SIZE,
  readLocation,
  replaceHandoff,
  TABS,
  tabQuery,
  writeLocation,
  type InboxTab,
} from './view';

// A burst of events (a completion writes several) reloads the list once, this long after
// the last one, and at most this long after the first.
const RELOAD_AFTER_MS = 200;
const RELOAD_AT_MOST_MS = 1000;
// Read the list again now and then anyway, in case the socket missed nothing but the
// server's idea of `can` changed (group membership, say).
const REFRESH_EVERY_MS = 60_000;

interface Shown {
  tab: InboxTab;
  offset: number;
  page: HandoffPage;
}

export function InboxPage({ username }: { username: string }) {
  const [location, setLocation] = useState(() => readLocation(window.location.search));
  const { tab, offset } = location;
  const [shown, setShown] = useState<Shown | null>(null);
  const [loading, setLoading] = useState(true);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [mineCount, setMineCount] = useState<number | null>(null);
  const [reloads, setReloads] = useState(0);
  const [streamAfter, setStreamAfter] = useState<number | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const now = useNow(1000);
  // The server's `can` flags already refuse; this says why, once, for the whole page.
  const roleDenial = roleNotice(useMe(), 'work_handoffs');

  useEffect(() => {
    const search = writeLocation(window.location.search, tab, offset);
    if (search !== window.location.search) window.history.replaceState(null, '', `${window.location.pathname}${search}`);
  }, [tab, offset]);

  // The list of the current tab and page; reloaded when live events say it changed.
  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    const mine = tab === 'mine' ? null : listHandoffs(tabQuery('mine', 0, 1), controller.signal);
    listHandoffs(tabQuery(tab, offset), controller.signal).then(
      (page) => {
        const fitted = clampOffset(offset, PAGE_SIZE, page.count);
        if (fitted !== offset) {
          // The page emptied (its handoffs were completed): show the last one that exists.
          setLocation({ tab, offset: fitted });
          return;
        }
        setShown({ tab, offset, page });
        if (tab === 'mine') setMineCount(page.count);
        setStreamAfter((after) => after ?? page.last_event_id ?? 0);
        setErrors([]);
        setLoading(false);
      },
      (error: unknown) => {
        if (isAbortError(error)) return;
        setErrors(errorItems(error));
        setLoading(false);
      },
    );
    mine?.then(
      (page) => setMineCount(page.count),
      () => undefined, // The tab label just goes without its count.
    );
    return () => controller.abort();
  }, [tab, offset, reloads]);

  const reload = useCallback(() => setReloads((n) => n + 1), []);

  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const burstStart = useRef(0);
  const scheduleReload = useCallback(() => {
    const at = Date.now();
    if (timer.current === null) burstStart.current = at;
    else clearTimeout(timer.current);
    const wait = Math.max(0, Math.min(RELOAD_AFTER_MS, burstStart.current + RELOAD_AT_MOST_MS - at));
    timer.current = setTimeout(() => {
      timer.current = null;
      reload();
    }, wait);
  }, [reload]);
  useEffect(
    () => () => {
      if (timer.current !== null) clearTimeout(timer.current);
    },
    [],
  );

  useEffect(() => {
    const interval = setInterval(reload, REFRESH_EVERY_MS);
    return () => clearInterval(interval);
  }, [reload]);

  const runIds = useMemo(() => new Set(shown?.page.results.map((h) => h.run_id) ?? []), [shown]);
  const runIdsRef = useRef(runIds);
  runIdsRef.current = runIds;
  const onEvent = useCallback(
    (event: HandoffEvent) => {
      if (eventChangesList(event, runIdsRef.current)) scheduleReload();
    },
    [scheduleReload],
  );
  const status = useEventStream({ path: '/ws/board/', after: streamAfter ?? 0, enabled: streamAfter !== null, onEvent });

  const onUpdated = useCallback((updated: Handoff) => {
    setShown((prev) => (prev ? { ...prev, page: { ...prev.page, results: replaceHandoff(prev.page.results, updated) } } : prev));
  }, []);

  // After a refusal the card is out of date: read it again (the list, if it is gone).
  const onStale = useCallback(
    (id: number) => {
      getHandoff(id).then(
        ({ events: _events, ...handoff }) => onUpdated(handoff),
        (error: unknown) => {
          if (error instanceof ApiError && error.status === 404) reload();
        },
      );
    },
    [onUpdated, reload],
  );

  const pick = (next: InboxTab) => {
    if (next === tab) return;
    setLocation({ tab: next, offset: 0 });
  };

  const current = shown !== null && shown.tab === tab && shown.offset === offset ? shown.page : null;
  const groups = current ? groupHandoffs(current.results, username, now) : [];
  const info = current ? pageInfo(offset, PAGE_SIZE, current.results.length, current.count) : null;
  const tabLabel = TABS.find((t) => t.id === tab)?.label ?? '';

  return (
    <div className="page-body inbox" data-testid="inbox">
      <header className="page-header">
        <div className="title-tabs">
          <h1>Inbox</h1>
          <div className="tabs" role="tablist" aria-label="Handoff lists">
            {TABS.map((t) => (
              <button
                key={t.id}
                type="button"
                role="tab"
                aria-selected={tab === t.id}
                aria-controls="inbox-list"
                className={`tab${tab === t.id ? ' is-active' : ''}`}
                onClick={() => pick(t.id)}
                data-testid={`tab-${t.id}`}
              >
                {t.label}
                {t.id === 'mine' && mineCount !== null ? (
                  <span className={`tab-count${mineCount > 0 ? ' has-items' : ''}`} data-testid="mine-count">
                    {mineCount}
                  </span>
                ) : null}
              </button>
            ))}
          </div>
        </div>
        <ConnectionIndicator status={status} loaded={streamAfter !== null} />
      </header>

      {notice ? (
        <div className="notice inbox-notice" role="status" data-testid="inbox-notice">
          <span>
            {notice.text}
            {notice.runId !== null ? (
              <>
                {' '}
                <a href={`/runs/${notice.runId}/`}>Open run #{notice.runId}</a>
              </>
            ) : null}
          </span>
          <button type="button" className="link-button small" onClick={() => setNotice(null)} aria-label="Dismiss">
            Dismiss
          </button>
        </div>
      ) : null}

      {roleDenial !== null ? (
        <div className="notice notice-warning" role="status" data-testid="inbox-role-notice">
          {roleDenial} You can follow handoffs here, but not claim, complete or reassign them.
        </div>
      ) : null}

      <ErrorList errors={errors} testId="inbox-errors" />

      <section id="inbox-list" role="tabpanel" aria-label={tabLabel} aria-busy={loading} data-testid="inbox-list" data-loaded={current !== null}>
        {current === null ? (
          errors.length === 0 ? (
            <p className="muted inbox-loading" data-testid="inbox-loading">
              Loading handoffs…
            </p>
          ) : null
        ) : current.results.length === 0 ? (
          <EmptyState tab={tab} onPick={pick} />
        ) : (
          <>
            <div className="inbox-summary">
              <span className="muted" data-testid="inbox-count" data-count={current.count}>
                {current.count} handoff{current.count === 1 ? '' : 's'}
                {tab === 'completed' ? ' completed' : ' waiting'}
              </span>
              <Pager info={info} count={current.count} offset={offset} onOffset={(o) => setLocation({ tab, offset: o })} />
            </div>
            {/* One flat keyed list, group heads between cards: a card that moves to another
                group (claimed, say) keeps its open form and its errors. */}
            <div className="handoff-list">
              {groups.flatMap((group) => [
                tab !== 'completed' ? (
                  <div key={`group-${group.id}`} className={`group-head group-${group.id}`} data-testid={`group-${group.id}`} data-count={group.items.length}>
                    <h2>
                      {group.title} <span className="group-count">{group.items.length}</span>
                    </h2>
                    <span className="muted small">{group.hint}</span>
                  </div>
                ) : null,
                ...group.items.map((handoff) => (
                  <HandoffCard
                    key={handoff.id}
                    handoff={handoff}
                    group={group.id}
                    me={username}
                    roleDenial={roleDenial}
                    now={now}
                    onUpdated={onUpdated}
                    onStale={onStale}
                    onNotice={setNotice}
                  />
                )),
              ])}
            </div>
            {info && (info.hasNext || info.hasPrevious) ? (
              <div className="inbox-summary inbox-summary-bottom">
                <span />
                <Pager info={info} count={current.count} offset={offset} onOffset={(o) => setLocation({ tab, offset: o })} />
              </div>
            ) : null}
          </>
        )}
      </section>
    </div>
  );
}

function Pager({
  info,
  count,
  offset,
  onOffset,
}: {
  info: ReturnType<typeof pageInfo> | null;
  count: number;
  offset: number;
  onOffset: (offset: number) => void;
}) {
  if (info === null || (!info.hasNext && !info.hasPrevious)) return null;
  return (
    <div className="pager" data-testid="pager">
      <span className="muted small" data-testid="pager-info">
        {info.first}–{info.last} of {count}
      </span>
      <button
        type="button"
        className="btn btn-small"
        disabled={!info.hasPrevious}
        onClick={() => onOffset(Math.max(0, offset - PAGE_SIZE))}
        data-testid="pager-previous"
      >
        ← Previous
      </button>
      <button type="button" className="btn btn-small" disabled={!info.hasNext} onClick={() => onOffset(offset + PAGE_SIZE)} data-testid="pager-next">
        Next →
      </button>
    </div>
  );
}

function EmptyState({ tab, onPick }: { tab: InboxTab; onPick: (tab: InboxTab) => void }) {
  if (tab === 'mine') {
    return (
      <div className="card empty" data-testid="inbox-empty">
        <h2>Nothing waiting for you</h2>
        <p>
          Handoffs for you or for a group you belong to appear here the moment a run hands work over — no need to reload.
        </p>
        <p>
          <button type="button" className="btn btn-small" onClick={() => onPick('active')}>
            See all active handoffs
          </button>
        </p>
      </div>
    );
  }
  if (tab === 'active') {
    return (
      <div className="card empty" data-testid="inbox-empty">
        <h2>No handoffs are waiting</h2>
        <p>When a run reaches a handoff step, its work appears here until someone completes it.</p>
      </div>
    );
  }
  return (
    <div className="card empty" data-testid="inbox-empty">
      <h2>Nothing completed yet</h2>
      <p>Completed handoffs are listed here with their outcome, who decided and their note.</p>
    </div>
  );
}
