/** One schedule's recent fires (slot, state, run, reason) and a form to backfill a past range. */

import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { isAbortError } from '../api/client';
import { backfillSchedule, listFires, type Schedule, type ScheduleFire } from '../api/schedules';
import type { ApiErrorItem, Page } from '../api/types';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { formatDateTime } from '../ui/format';
import { backfillRange, toLocalInput } from './scheduleForm';
import { formatSlot, hasSeconds, localTimeZone } from './timetable';

const SHOWN = 10;
const DAY_MS = 86_400_000;

interface ScheduleFiresProps {
  schedule: Schedule;
  /** Why the user may not backfill, or null. */
  operateDenied: string | null;
}

export function ScheduleFires({ schedule, operateDenied }: ScheduleFiresProps) {
  const [fires, setFires] = useState<Page<ScheduleFire> | null>(null);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);

  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        setFires(await listFires(schedule.id, SHOWN, signal));
        setErrors([]);
      } catch (error) {
        if (!isAbortError(error)) setErrors(errorItems(error));
      }
    },
    [schedule.id],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  const seconds = fires !== null && hasSeconds(fires.results.map((f) => f.slot_at));

  return (
    <div className="schedule-fires" data-testid={`schedule-fires-${schedule.id}`}>
      <div className="schedule-fires-head">
        <h4>Recent fires</h4>
        <button type="button" className="btn btn-link btn-small" onClick={() => void load()} data-testid={`schedule-fires-refresh-${schedule.id}`}>
          Refresh
        </button>
      </div>
      <ErrorList errors={errors} />
      {fires === null ? (
        errors.length === 0 ? <p className="muted small">Loading…</p> : null
      ) : fires.results.length === 0 ? (
        <p className="muted small" data-testid={`schedule-fires-empty-${schedule.id}`}>
          No fires yet.{' '}
          {schedule.next_fire_at ? `The first is due ${formatSlot(schedule.next_fire_at, schedule.timezone)} (${schedule.timezone}).` : 'The schedule is paused.'}
        </p>
      ) : (
        <table className="table schedule-fires-table">
          <thead>
            <tr>
              <th>Slot ({schedule.timezone})</th>
              <th>State</th>
              <th>Run</th>
              <th>Reason</th>
            </tr>
          </thead>
          <tbody>
            {fires.results.map((fire) => (
              <tr key={fire.id} data-testid={`schedule-fire-${fire.id}`} data-state={fire.state}>
                <td title={`Your time: ${formatDateTime(fire.slot_at)}`}>{formatSlot(fire.slot_at, schedule.timezone, { seconds })}</td>
                <td>
                  <span className={`badge badge-fire-${fire.state}`}>{fire.state}</span>
                </td>
                <td>{fire.run !== null ? <a href={`/runs/${fire.run}/`}>#{fire.run}</a> : <span className="muted">—</span>}</td>
                <td className="small">{fire.reason || <span className="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {fires !== null && fires.count > fires.results.length ? (
        <p className="muted small">
          The newest {fires.results.length} of {fires.count}.
        </p>
      ) : null}
      <BackfillForm schedule={schedule} denied={operateDenied} onQueued={() => void load()} />
    </div>
  );
}

interface BackfillFormProps {
  schedule: Schedule;
  denied: string | null;
  onQueued: () => void;
}

function BackfillForm({ schedule, denied, onQueued }: BackfillFormProps) {
  const [start, setStart] = useState(() => toLocalInput(Date.now() - DAY_MS));
  const [end, setEnd] = useState(() => toLocalInput(Date.now()));
  const [problem, setProblem] = useState<string | null>(null);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [answer, setAnswer] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const startId = useId();
  const endId = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const range = backfillRange(start, end, Date.now());
    setAnswer(null);
    setErrors([]);
    if (!range.ok) {
      setProblem(range.message);
      return;
    }
    setProblem(null);
    setBusy(true);
    try {
      const { slots, rate_per_s } = await backfillSchedule(schedule.id, range.start, range.end);
      setAnswer(
        slots === 0
          ? 'No slot to queue: none falls in that range, or each one already fired.'
          : `Queued ${slots} ${slots === 1 ? 'slot' : 'slots'}; they start oldest first, ${rate_per_s} per second.`,
      );
      onQueued();
    } catch (error) {
      setErrors(errorItems(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="schedule-backfill" onSubmit={(e) => void submit(e)} noValidate aria-label="Backfill" data-testid={`schedule-backfill-${schedule.id}`}>
      <h4>Backfill</h4>
      <p className="hint">Start the runs of the slots in a past range that never fired. Times are yours ({localTimeZone()}).</p>
      <fieldset className="schedule-backfill-fields" disabled={busy || denied !== null}>
        <div className="ifield">
          <label htmlFor={startId}>From</label>
          <input id={startId} type="datetime-local" value={start} onChange={(e) => setStart(e.target.value)} data-testid="backfill-start" />
        </div>
        <div className="ifield">
          <label htmlFor={endId}>To</label>
          <input id={endId} type="datetime-local" value={end} onChange={(e) => setEnd(e.target.value)} data-testid="backfill-end" />
        </div>
        <button type="submit" className="btn btn-small" title={denied ?? 'Queue the slots of this range'} data-testid="backfill-submit">
          {busy ? 'Queueing…' : 'Backfill'}
        </button>
      </fieldset>
      {problem ? (
        <p className="field-error" role="alert">
          {problem}
        </p>
      ) : null}
      <ErrorList errors={errors} testId="backfill-errors" />
      {answer ? (
        <p className="small schedule-backfill-answer" role="status" data-testid="backfill-answer">
          {answer}
        </p>
      ) : null}
      {denied ? <p className="hint">{denied}</p> : null}
    </form>
  );
}
