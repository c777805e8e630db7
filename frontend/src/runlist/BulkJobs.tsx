/** Bulk jobs with their progress, read again every second while one is going. */

import { useEffect, useRef, useState } from 'react';
import { isAbortError } from '../api/client';
import type { ApiErrorItem } from '../api/types';
import { formatDateTime, formatRelative } from '../ui/format';
import { errorItems, ErrorList } from '../ui/ErrorList';
import { StateBadge } from '../ui/StateBadge';
import { ACTIVE, actionLabel, cancelBulkJob, listBulkJobs, progressParts, type BulkJob } from './bulkApi';
import { runsLabel } from './selection';

const SHOWN = 10;
const ACTIVE_POLL_MS = 1000;
const IDLE_POLL_MS = 10_000;

interface BulkJobsProps {
  /** Changes when a job was created here: read the list at once. */
  version: number;
  /** A job finished: the runs it changed look different now. */
  onJobFinished: () => void;
}

export function BulkJobs({ version, onJobFinished }: BulkJobsProps) {
  const [jobs, setJobs] = useState<BulkJob[] | null>(null);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [tick, setTick] = useState(0);
  const active = useRef<Set<number>>(new Set());
  const finished = useRef(onJobFinished);
  finished.current = onJobFinished;

  useEffect(() => {
    const controller = new AbortController();
    listBulkJobs(SHOWN, controller.signal).then(
      (page) => {
        const nowActive = new Set(page.results.filter((j) => ACTIVE.has(j.state)).map((j) => j.id));
        const ended = [...active.current].some((id) => !nowActive.has(id));
        active.current = nowActive;
        setJobs(page.results);
        setErrors([]);
        if (ended) finished.current();
      },
      (error: unknown) => {
        if (!isAbortError(error)) setErrors(errorItems(error));
      },
    );
    return () => controller.abort();
  }, [version, tick]);

  const anyActive = jobs?.some((j) => ACTIVE.has(j.state)) ?? false;
  useEffect(() => {
    const timer = setTimeout(() => setTick((n) => n + 1), anyActive ? ACTIVE_POLL_MS : IDLE_POLL_MS);
    return () => clearTimeout(timer);
  }, [anyActive, tick]);

  return (
    <section className="bulk-jobs" aria-label="Bulk jobs" data-testid="bulk-jobs">
      <h2>Bulk jobs</h2>
      <ErrorList errors={errors} testId="bulk-jobs-errors" />
      {jobs === null ? null : jobs.length === 0 ? (
        <p className="muted" data-testid="bulk-jobs-empty">
          No bulk jobs yet. Select runs above and pick an action: the job and its progress appear here.
        </p>
      ) : (
        <ul className="job-list">
          {jobs.map((job) => (
            <JobItem key={job.id} job={job} onChanged={() => setTick((n) => n + 1)} />
          ))}
        </ul>
      )}
    </section>
  );
}

function JobItem({ job, onChanged }: { job: BulkJob; onChanged: () => void }) {
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [busy, setBusy] = useState(false);
  const parts = progressParts(job);
  const now = Date.now();
  const cancel = () => {
    setBusy(true);
    cancelBulkJob(job.id).then(
      () => {
        setBusy(false);
        onChanged();
      },
      (error: unknown) => {
        setBusy(false);
        setErrors(errorItems(error));
      },
    );
  };
  const filter = Object.entries(job.filter)
    .map(([k, v]) => (k === 'ids' ? `${v.split(',').length} picked` : `${k}=${v}`))
    .join(' · ');

  return (
    <li className="card job" data-testid="bulk-job" data-job-id={job.id} data-state={job.state}>
      <div className="job-head">
        <strong>
          #{job.id} {actionLabel(job.action, job.version)} · {runsLabel(job.total)}
        </strong>
        <StateBadge state={job.state} testId="bulk-job-state" />
        <span className="muted small" title={formatDateTime(job.created_at)}>
          {job.actor} · {formatRelative(job.created_at, now)}
        </span>
        {ACTIVE.has(job.state) ? (
          <button type="button" className="btn btn-small" onClick={cancel} disabled={busy} data-testid="bulk-job-cancel">
            Stop job
          </button>
        ) : null}
      </div>
      <div
        className="progress"
        role="progressbar"
        aria-label={`Job ${job.id} progress`}
        aria-valuemin={0}
        aria-valuemax={job.total}
        aria-valuenow={job.processed}
        data-testid="bulk-job-progress"
      >
        <span className="progress-done" style={{ width: `${parts.done}%` }} />
        <span className="progress-skipped" style={{ width: `${parts.skipped}%` }} />
        <span className="progress-failed" style={{ width: `${parts.failed}%` }} />
      </div>
      <div className="job-counts small" data-testid="bulk-job-counts">
        <span data-testid="bulk-job-processed">
          {job.processed.toLocaleString('en')} / {job.total.toLocaleString('en')} processed
        </span>
        <span className="count-done">{job.done.toLocaleString('en')} done</span>
        <span className="count-skipped">{job.skipped.toLocaleString('en')} skipped</span>
        <span className="count-failed">{job.failed.toLocaleString('en')} failed</span>
        {filter ? <span className="muted clamp">{filter}</span> : null}
        {job.filter.ids === undefined && Object.keys(job.filter).length > 0 ? (
          <a href={`/runs/?${new URLSearchParams(job.filter).toString()}`} data-testid="bulk-job-search">
            Search these runs
          </a>
        ) : null}
      </div>
      {job.reason ? <p className="small muted job-reason">Reason: {job.reason}</p> : null}
      {job.error ? <p className="small run-error">{job.error}</p> : null}
      {job.errors.length > 0 ? (
        <details className="job-errors">
          <summary className="small">
            Skipped and failed:{' '}
            {Object.entries(job.reasons)
              .map(([code, n]) => `${code.replace(/_/g, ' ')} ${n}`)
              .join(', ')}
          </summary>
          <ul className="small">
            {job.errors.map((e) => (
              <li key={e.run_id}>
                <a href={`/runs/${e.run_id}/`}>#{e.run_id}</a> {e.outcome}: {e.message}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      <ErrorList errors={errors} />
    </li>
  );
}
