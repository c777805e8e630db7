/** List workflows with search and their last run (live), start runs of live versions, and create workflows (as the role allows). */

import { Fragment, useCallback, useEffect, useRef, useState } from 'react';
import { isAbortError } from '../api/client';
import { listRecentEvents } from '../api/events';
import type { ApiErrorItem, RunEvent, Workflow } from '../api/types';
import { listWorkflows } from '../api/workflows';
import { useDebouncedValue } from '../hooks/useDebouncedValue';
import { useEventStream } from '../hooks/useEventStream';
import { useMe } from '../hooks/useMe';
import { useNow } from '../hooks/useNow';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { formatDateTime, formatRelative } from '../ui/format';
import { denial } from '../ui/permissions';
import { StateBadge } from '../ui/StateBadge';
import { applyRunEvent, lastRunWhen } from './lastRun';
import { NewWorkflowForm } from './NewWorkflowForm';
import { StartRunPanel } from './StartRunPanel';

// Read the list again now and then anyway (new workflows, renamed ones).
const REFRESH_EVERY_MS = 60_000;

interface ListState {
  loading: boolean;
  loaded: boolean;
  workflows: readonly Workflow[];
  count: number;
  errors: ApiErrorItem[];
}

const editUrl = (slug: string) => `/workflows/${encodeURIComponent(slug)}/edit/`;

export function WorkflowsPage() {
  const [search, setSearch] = useState('');
  const query = useDebouncedValue(search.trim(), 250);
  const [reloads, setReloads] = useState(0);
  const [list, setList] = useState<ListState>({
    loading: true,
    loaded: false,
    workflows: [],
    count: 0,
    errors: [],
  });
  const [creating, setCreating] = useState(false);
  const [startOpen, setStartOpen] = useState<string | null>(null);
  const [streamAfter, setStreamAfter] = useState<number | null>(null);
  const streamAfterRef = useRef(streamAfter);
  streamAfterRef.current = streamAfter;
  const now = useNow(5_000);
  const me = useMe();
  // Each is null when the role allows it, else the disabled control's tooltip.
  const createDenied = denial(me, 'edit', 'create workflows');
  const startDenied = denial(me, 'operate', 'start runs');

  useEffect(() => {
    const controller = new AbortController();
    setList((prev) => ({ ...prev, loading: true }));
    // The first time, read the stream position before the list: live run events from
    // there on keep each last run current (applying one twice changes nothing).
    const position =
      streamAfterRef.current === null
        ? listRecentEvents(['run_created'], 1, controller.signal).then((body) => body.last_event_id)
        : Promise.resolve(null);
    position
      .then((after) => {
        if (after !== null) setStreamAfter(after);
        return listWorkflows(query, controller.signal);
      })
      .then(
      (page) =>
        setList({ loading: false, loaded: true, workflows: page.results, count: page.count, errors: [] }),
      (error: unknown) => {
        if (isAbortError(error)) return;
        setList((prev) => ({ ...prev, loading: false, errors: errorItems(error) }));
      },
    );
    return () => controller.abort();
  }, [query, reloads]);

  const reload = () => setReloads((n) => n + 1);

  useEffect(() => {
    const timer = setInterval(() => setReloads((n) => n + 1), REFRESH_EVERY_MS);
    return () => clearInterval(timer);
  }, []);

  const onEvent = useCallback((event: RunEvent) => {
    setList((prev) => {
      const workflows = applyRunEvent(prev.workflows, event);
      return workflows === prev.workflows ? prev : { ...prev, workflows };
    });
  }, []);
  useEventStream({ path: '/ws/board/', after: streamAfter ?? 0, enabled: streamAfter !== null, onEvent });

  return (
    <div className="page-body">
      <header className="page-header">
        <h1>Workflows</h1>
        <div className="toolbar">
          <input
            type="search"
            className="search"
            placeholder="Search by name or slug"
            aria-label="Search workflows"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            data-testid="workflow-search"
          />
          <button
            type="button"
            className="btn btn-primary"
            onClick={() => {
              setCreating(true);
            }}
            disabled={creating || createDenied !== null}
            title={createDenied ?? undefined}
            data-testid="new-workflow"
          >
            New workflow
          </button>
        </div>
      </header>

      {creating && createDenied === null ? (
        <NewWorkflowForm
          onCancel={() => setCreating(false)}
          onCreated={(workflow) => {
            // A new workflow has no graph yet: drawing it is the next step.
            window.location.assign(editUrl(workflow.slug));
          }}
        />
      ) : null}

      <ErrorList errors={list.errors} testId="workflow-list-errors" />

      {!list.loaded ? (
        list.errors.length === 0 ? <p className="muted">Loading workflows…</p> : null
      ) : list.workflows.length === 0 ? (
        <EmptyState query={query} onCreate={() => setCreating(true)} creating={creating} createDenied={createDenied} />
      ) : (
        <div className="card table-card">
          <table className="table" aria-busy={list.loading}>
            <thead>
              <tr>
                <th>Workflow</th>
                <th>Slug</th>
                <th>Live version</th>
                <th>Last run</th>
                <th className="actions-col" aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {list.workflows.map((workflow) => (
                <Fragment key={workflow.slug}>
                  <WorkflowRow
                    workflow={workflow}
                    now={now}
                    startOpen={startOpen === workflow.slug}
                    startDenied={startDenied}
                    onToggleStart={() =>
                      setStartOpen((open) => (open === workflow.slug ? null : workflow.slug))
                    }
                  />
                  {startOpen === workflow.slug && workflow.live_version !== null && startDenied === null ? (
                    <tr className="panel-row">
                      <td colSpan={5}>
                        <StartRunPanel
                          slug={workflow.slug}
                          liveVersion={workflow.live_version}
                          onStarted={reload}
                          onClose={() => setStartOpen(null)}
                        />
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              ))}
            </tbody>
          </table>
          {list.count > list.workflows.length ? (
            <p className="table-footnote muted">
              Showing {list.workflows.length} of {list.count}; search to narrow the list.
            </p>
          ) : null}
        </div>
      )}
    </div>
  );
}

interface WorkflowRowProps {
  workflow: Workflow;
  now: number;
  startOpen: boolean;
  /** Why the user may not start runs, or null. */
  startDenied: string | null;
  onToggleStart: () => void;
}

function WorkflowRow({ workflow, now, startOpen, startDenied, onToggleStart }: WorkflowRowProps) {
  const { slug, last_run: lastRun } = workflow;
  return (
    <tr data-testid={`workflow-${slug}`}>
      <td>
        <a className="row-title" href={editUrl(slug)}>
          {workflow.name}
        </a>
        {workflow.description ? <div className="muted small clamp">{workflow.description}</div> : null}
      </td>
      <td>
        <code>{slug}</code>
      </td>
      <td>
        {workflow.live_version !== null ? (
          <span className="version">v{workflow.live_version}</span>
        ) : (
          <span className="muted">no published version</span>
        )}
      </td>
      <td>
        {lastRun ? (
          <a
            className="last-run"
            href={`/runs/${lastRun.id}/`}
            title={`Run #${lastRun.id}, ${lastRunWhen(lastRun).verb} ${formatDateTime(lastRunWhen(lastRun).at)}`}
            data-testid={`last-run-${slug}`}
            data-run={lastRun.id}
            data-state={lastRun.state}
          >
            <StateBadge state={lastRun.state} />
            <span className="muted small">
              #{lastRun.id} {lastRunWhen(lastRun).verb} {formatRelative(lastRunWhen(lastRun).at, now)}
            </span>
          </a>
        ) : (
          <span className="muted">never run</span>
        )}
      </td>
      <td className="actions-col">
        <a className="btn btn-link" href={editUrl(slug)} data-testid={`edit-${slug}`}>
          Edit
        </a>
        {workflow.live_version !== null ? (
          <button
            type="button"
            className={startOpen ? 'btn' : 'btn btn-secondary'}
            onClick={onToggleStart}
            aria-expanded={startOpen}
            disabled={startDenied !== null}
            title={startDenied ?? undefined}
            data-testid={`start-${slug}`}
          >
            {startOpen ? 'Hide' : 'Start run'}
          </button>
        ) : null}
      </td>
    </tr>
  );
}

interface EmptyStateProps {
  query: string;
  creating: boolean;
  /** Why the user may not create workflows, or null. */
  createDenied: string | null;
  onCreate: () => void;
}

function EmptyState({ query, creating, createDenied, onCreate }: EmptyStateProps) {
  if (query) {
    return (
      <div className="empty card" data-testid="workflows-empty">
        <p>No workflows match “{query}”.</p>
      </div>
    );
  }
  return (
    <div className="empty card" data-testid="workflows-empty">
      <h2>No workflows yet</h2>
      <p>
        A workflow is a graph of steps — tasks, choices, handoffs to people — that you draw in the
        editor. Create one, draw it, and publish a version; then start runs here and watch them live
        on the <a href="/board/">Board</a>.
      </p>
      {creating ? null : createDenied === null ? (
        <button type="button" className="btn btn-primary" onClick={onCreate}>
          Create your first workflow
        </button>
      ) : (
        <p className="muted" data-testid="create-denied">
          {createDenied}
        </p>
      )}
    </div>
  );
}
