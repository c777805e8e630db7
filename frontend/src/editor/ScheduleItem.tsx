/** One schedule in the list: what it does in words, its next fire, pause or resume, change, delete, fires. */

import { useState } from 'react';
import { deleteSchedule, pauseSchedule, resumeSchedule, type Schedule } from '../api/schedules';
import type { ApiErrorItem } from '../api/types';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { formatDateTime } from '../ui/format';
import { ScheduleFires } from './ScheduleFires';
import { CATCHUP_CHOICES, OVERLAP_CHOICES, policyLabel } from './scheduleForm';
import { describeTimetable, formatSlot, formatUntil } from './timetable';

interface ScheduleItemProps {
  schedule: Schedule;
  now: number;
  /** Why the user may not change or delete schedules, or null. */
  editDenied: string | null;
  /** Why the user may not pause, resume or backfill, or null. */
  operateDenied: string | null;
  /** Whether its fires and the backfill form are shown. */
  open: boolean;
  onToggle: () => void;
  onEdit: () => void;
  onChanged: (schedule: Schedule) => void;
  onDeleted: (id: number) => void;
}

export function ScheduleItem({ schedule, now, editDenied, operateDenied, open, onToggle, onEdit, onChanged, onDeleted }: ScheduleItemProps) {
  const [busy, setBusy] = useState<null | 'pause' | 'resume' | 'delete'>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const { id, state } = schedule;

  const act = async (action: 'pause' | 'resume' | 'delete') => {
    setBusy(action);
    setErrors([]);
    try {
      if (action === 'delete') {
        await deleteSchedule(id);
        onDeleted(id);
        return;
      }
      onChanged(await (action === 'pause' ? pauseSchedule(id) : resumeSchedule(id)));
    } catch (error) {
      setErrors(errorItems(error));
    } finally {
      setBusy(null);
      setConfirmDelete(false);
    }
  };

  const catchup = policyLabel(CATCHUP_CHOICES, schedule.catchup);
  return (
    <li className={`schedule-item is-${state}`} data-testid={`schedule-${id}`} data-state={state} data-name={schedule.name}>
      <div className="schedule-line">
        <strong className="schedule-name">{schedule.name}</strong>
        <span className={`badge badge-schedule-${state}`} data-testid={`schedule-state-${id}`}>
          {state}
        </span>
      </div>
      <div className="schedule-when">
        <span data-testid={`schedule-words-${id}`}>{describeTimetable(schedule)}</span>
        {schedule.kind === 'cron' ? <code>{schedule.cron}</code> : null}
        <span className="muted small">{schedule.timezone}</span>
      </div>
      <div className="small" data-testid={`schedule-next-${id}`}>
        {state === 'paused' || schedule.next_fire_at === null ? (
          <span className="muted">Paused: no run starts until it is resumed.</span>
        ) : (
          <>
            Next: <span title={`Your time: ${formatDateTime(schedule.next_fire_at)}`}>{formatSlot(schedule.next_fire_at, schedule.timezone)}</span>{' '}
            <span className="muted">({formatUntil(schedule.next_fire_at, now)})</span>
          </>
        )}
      </div>
      <div className="small muted">
        Overlap: {policyLabel(OVERLAP_CHOICES, schedule.overlap).toLowerCase()} · Catch-up: {catchup.toLowerCase()}
        {schedule.catchup === 'all' || schedule.overlap === 'queue' ? ` (limit ${schedule.catchup_limit})` : ''}
      </div>
      <div className="actions schedule-actions">
        {state === 'active' ? (
          <button type="button" className="btn btn-small" disabled={busy !== null || operateDenied !== null} title={operateDenied ?? 'Stop starting runs until resumed'} onClick={() => void act('pause')} data-testid={`schedule-pause-${id}`}>
            {busy === 'pause' ? 'Pausing…' : 'Pause'}
          </button>
        ) : (
          <button type="button" className="btn btn-small" disabled={busy !== null || operateDenied !== null} title={operateDenied ?? 'Fire again from now on; slots passed while paused are not run'} onClick={() => void act('resume')} data-testid={`schedule-resume-${id}`}>
            {busy === 'resume' ? 'Resuming…' : 'Resume'}
          </button>
        )}
        <button type="button" className="btn btn-small" disabled={busy !== null || editDenied !== null} title={editDenied ?? undefined} onClick={onEdit} data-testid={`schedule-edit-${id}`}>
          Edit
        </button>
        <button type="button" className={`btn btn-small${open ? ' is-on' : ''}`} onClick={onToggle} aria-expanded={open} data-testid={`schedule-toggle-fires-${id}`}>
          Fires and backfill
        </button>
        {confirmDelete ? null : (
          <button type="button" className="btn btn-small btn-danger" disabled={busy !== null || editDenied !== null} title={editDenied ?? undefined} onClick={() => setConfirmDelete(true)} data-testid={`schedule-delete-${id}`}>
            Delete
          </button>
        )}
      </div>
      {confirmDelete ? (
        <p className="confirm small" data-testid={`schedule-delete-confirm-${id}`}>
          Delete “{schedule.name}”? It stops starting runs; runs it started stay.{' '}
          <button type="button" className="btn btn-small btn-danger-solid" disabled={busy !== null} onClick={() => void act('delete')} data-testid={`schedule-delete-yes-${id}`}>
            {busy === 'delete' ? 'Deleting…' : 'Yes, delete'}
          </button>{' '}
          <button type="button" className="btn btn-small" disabled={busy !== null} onClick={() => setConfirmDelete(false)}>
            Keep it
          </button>
        </p>
      ) : null}
      <ErrorList errors={errors} testId={`schedule-errors-${id}`} />
      {open ? <ScheduleFires schedule={schedule} operateDenied={operateDenied} /> : null}
    </li>
  );
}
