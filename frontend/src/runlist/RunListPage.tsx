/** The Runs page: search runs, pick them by hand or all matching, act on them in bulk. */

import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, isAbortError } from '../api/client';
import type { ApiErrorItem, RunListItem, RunListPage as RunPage } from '../api/types';
import { useMe } from '../hooks/useMe';
import { useNow } from '../hooks/useNow';
import { errorItems, ErrorList } from '../ui/ErrorList';
import { denial } from '../ui/permissions';
import { BulkDialog } from './BulkDialog';
import { BulkJobs } from './BulkJobs';
import type { BulkAction } from './bulkApi';
import { RunTable } from './RunTable';
import { SearchForm } from './SearchForm';
import { emptySearch, errorsByField, filterParams, isFiltered, listQuery, readSearch, writeSearch, type RunSearch } from './search';
import { matchingRefusal, NOTHING, runsLabel, selectedCount, type Selection } from './selection';

interface Located {
  search: RunSearch;
  offset: number;
}

export function RunListPage() {
  const [located, setLocated] = useState<Located>(() => readSearch(window.location.search));
  const [page, setPage] = useState<RunPage | null>(null);
  const [loading, setLoading] = useState(true);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [selection, setSelection] = useState<Selection>(NOTHING);
  const [dialog, setDialog] = useState<BulkAction | null>(null);
  const [jobsVersion, setJobsVersion] = useState(0);
  const [reloads, setReloads] = useState(0);
  const now = useNow(5000);
  const operate = denial(useMe(), 'operate', 'act on runs in bulk');

  // Back and forward move through searches.
  useEffect(() => {
    const onPop = () => {
      setLocated(readSearch(window.location.search));
      setSelection(NOTHING);
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    api.get<RunPage>(`/api/v1/runs/?${listQuery(located.search, located.offset)}`, controller.signal).then(
      (result) => {
        setPage(result);
        setErrors([]);
        setLoading(false);
      },
      (error: unknown) => {
        if (isAbortError(error)) return;
        setPage(null);
        setErrors(errorItems(error));
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [located, reloads]);

  const go = useCallback((next: Located, push = true) => {
    const search = writeSearch(next.search, next.offset);
    const url = `${window.location.pathname}${search}`;
    if (push) window.history.pushState(null, '', url);
    else window.history.replaceState(null, '', url);
    setLocated(next);
  }, []);

  const onSearch = (search: RunSearch) => {
    setSelection(NOTHING);
    go({ search, offset: 0 });
  };

  const placed = useMemo(() => errorsByField(errors), [errors]);
  const filtered = isFiltered(located.search);
  const count = page?.count ?? 0;
  const selected = selectedCount(selection);
  const refusal = matchingRefusal(count, filtered);
  const rows: RunListItem[] = page?.results ?? [];

  const onCreated = () => {
    setDialog(null);
    setSelection(NOTHING);
    setJobsVersion((n) => n + 1);
  };

  return (
    <div className="page-body runlist" data-testid="runlist">
      <header className="page-header">
        <h1>Runs</h1>
        {page !== null ? (
          <span className="muted" data-testid="run-count" data-count={count}>
            {runsLabel(count, page.count_capped === true)}
            {filtered ? ' match' : ''}
          </span>
        ) : null}
      </header>

      <SearchForm search={located.search} fieldErrors={placed.fields} onSearch={onSearch} />
      <ErrorList errors={placed.other} testId="runlist-errors" />

      <div className="bulk-bar card" data-testid="bulk-bar" aria-live="polite">
        <span className="bulk-count" data-testid="selected-count" data-count={selected}>
          {selected === 0
            ? 'Pick runs with the checkboxes, or all runs matching the search.'
            : selection.mode === 'matching'
              ? `All ${runsLabel(selected)} matching the search are selected.`
              : `${runsLabel(selected)} selected.`}
        </span>
        {selection.mode === 'ids' && count > 0 ? (
          <button
            type="button"
            className="btn btn-small btn-link"
            disabled={refusal !== null}
            title={refusal ?? undefined}
            onClick={() => setSelection({ mode: 'matching', count })}
            data-testid="select-matching"
          >
            Select all {runsLabel(count)} matching
          </button>
        ) : null}
        {selected > 0 ? (
          <button type="button" className="btn btn-small btn-link" onClick={() => setSelection(NOTHING)} data-testid="clear-selection">
            Clear
          </button>
        ) : null}
        <span className="bulk-actions">
          {(['cancel', 'retry', 'rerun'] as const).map((action) => (
            <button
              key={action}
              type="button"
              className={`btn btn-small${action === 'cancel' ? ' btn-danger' : ''}`}
              disabled={selected === 0 || operate !== null}
              title={operate ?? undefined}
              onClick={() => setDialog(action)}
              data-testid={`bulk-${action}`}
            >
              {action === 'cancel' ? 'Cancel runs' : action === 'retry' ? 'Retry failed' : 'Re-run on version…'}
            </button>
          ))}
        </span>
      </div>

      <section aria-label="Runs" aria-busy={loading} data-testid="run-results" data-loaded={page !== null}>
        {page === null ? (
          errors.length === 0 ? (
            <p className="muted" data-testid="runlist-loading">
              Loading runs…
            </p>
          ) : null
        ) : rows.length === 0 ? (
          <EmptyState filtered={filtered} onClear={() => onSearch(emptySearch())} />
        ) : (
          <RunTable
            rows={rows}
            now={now}
            selection={selection}
            onSelection={setSelection}
            loading={loading}
            offset={located.offset}
            count={count}
            countCapped={page?.count_capped === true}
            onOffset={(offset) => go({ search: located.search, offset })}
          />
        )}
      </section>

      <BulkJobs version={jobsVersion} onJobFinished={() => setReloads((n) => n + 1)} />

      {dialog !== null ? (
        <BulkDialog
          action={dialog}
          selection={selection}
          filter={filterParams(located.search)}
          onClose={() => setDialog(null)}
          onCreated={onCreated}
        />
      ) : null}
    </div>
  );
}

function EmptyState({ filtered, onClear }: { filtered: boolean; onClear: () => void }) {
  if (filtered) {
    return (
      <div className="card empty" data-testid="runlist-empty">
        <h2>No runs match this search</h2>
        <p>Loosen a filter, or start over.</p>
        <p>
          <button type="button" className="btn btn-small" onClick={onClear} data-testid="clear-search">
            Clear the search
          </button>
        </p>
      </div>
    );
  }
  return (
    <div className="card empty" data-testid="runlist-empty">
      <h2>No runs yet</h2>
      <p>
        Runs appear here once a workflow starts one: from <a href="/">Workflows</a>, a schedule, a webhook or the API.
      </p>
    </div>
  );
}
