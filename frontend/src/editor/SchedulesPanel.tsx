/** The workflow's schedules under the top bar: list, create, change, pause, resume, delete, fires, backfill. */

import { useCallback, useEffect, useState } from 'react';
import { isAbortError } from '../api/client';
import { listSchedules, type Schedule } from '../api/schedules';
import type { ApiErrorItem } from '../api/types';
import { useMe } from '../hooks/useMe';
import { useNow } from '../hooks/useNow';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { denial } from '../ui/permissions';
import { schedulesHash } from '../ui/trigger';
import { ScheduleForm } from './ScheduleForm';
import { ScheduleItem } from './ScheduleItem';

interface SchedulesPanelProps {
  slug: string;
  /** Why the user may not create, change or delete schedules, or null. */
  editDenied: string | null;
  onClose: () => void;
}

/** What the panel shows: the list, or the form for a new (null) or saved schedule. */
type Mode = { kind: 'list' } | { kind: 'form'; schedule: Schedule | null };

export function SchedulesPanel({ slug, editDenied, onClose }: SchedulesPanelProps) {
  const [schedules, setSchedules] = useState<Schedule[] | null>(null);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [mode, setMode] = useState<Mode>({ kind: 'list' });
  // A link to one schedule (the run page's trigger badge) opens its fires.
  const [open, setOpen] = useState<number | null>(() => schedulesHash(window.location.hash).id);
  const operateDenied = denial(useMe(), 'operate', 'pause, resume or backfill schedules');
  const now = useNow(30_000);

  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        setSchedules((await listSchedules(slug, signal)).results);
        setErrors([]);
      } catch (error) {
        if (!isAbortError(error)) setErrors(errorItems(error));
      }
    },
    [slug],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  const replace = (saved: Schedule) =>
    setSchedules((prev) => {
      const list = prev ?? [];
      return list.some((s) => s.id === saved.id) ? list.map((s) => (s.id === saved.id ? saved : s)) : [...list, saved];
    });

  const startNew = () => setMode({ kind: 'form', schedule: null });

  return (
    <section className="popover schedules-panel" role="dialog" aria-label="Schedules" data-testid="schedules-panel">
      <header className="popover-head">
        <h2 className="panel-title">Schedules</h2>
        <div className="actions">
          {mode.kind === 'list' ? (
            <button type="button" className="btn btn-primary btn-small" onClick={startNew} disabled={editDenied !== null} title={editDenied ?? 'Run this workflow on a timetable'} data-testid="schedule-new">
              New schedule
            </button>
          ) : null}
          <button type="button" className="btn btn-small" onClick={onClose} aria-label="Close">
            ✕
          </button>
        </div>
      </header>
      {editDenied !== null ? (
        <p className="hint" data-testid="schedules-readonly">
          {editDenied}
        </p>
      ) : null}
      <ErrorList errors={errors} testId="schedules-errors" />
      {mode.kind === 'form' ? (
        <ScheduleForm
          key={mode.schedule?.id ?? 'new'}
          slug={slug}
          schedule={mode.schedule}
          onSaved={(saved) => {
            replace(saved);
            setMode({ kind: 'list' });
          }}
          onCancel={() => setMode({ kind: 'list' })}
        />
      ) : schedules === null ? (
        errors.length === 0 ? <p className="muted">Loading…</p> : null
      ) : schedules.length === 0 ? (
        <div className="schedules-empty" data-testid="schedules-empty">
          <p>
            <strong>No schedules yet:</strong> runs start only when someone starts them. Add a schedule to run this workflow on a timetable.
          </p>
          {editDenied === null ? (
            <button type="button" className="btn btn-small" onClick={startNew}>
              Add a schedule
            </button>
          ) : null}
        </div>
      ) : (
        <ul className="schedule-list" data-testid="schedule-list">
          {schedules.map((schedule) => (
            <ScheduleItem
              key={schedule.id}
              schedule={schedule}
              now={now}
              editDenied={editDenied}
              operateDenied={operateDenied}
              open={open === schedule.id}
              onToggle={() => setOpen((current) => (current === schedule.id ? null : schedule.id))}
              onEdit={() => setMode({ kind: 'form', schedule })}
              onChanged={replace}
              onDeleted={(id) => setSchedules((prev) => (prev ?? []).filter((s) => s.id !== id))}
            />
          ))}
        </ul>
      )}
      <p className="hint schedules-note">Each run a schedule starts uses the workflow’s live version (a canary takes its share).</p>
    </section>
  );
}
