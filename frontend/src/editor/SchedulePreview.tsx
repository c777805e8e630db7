/** The next fire times of the timetable being typed, in its zone and the browser's, or why there are none. */

import type { ApiErrorItem } from '../api/types';
import { formatSlot, hasSeconds, localTimeZone } from './timetable';
import type { Preview } from './useSchedulePreview';

interface SchedulePreviewProps {
  preview: Preview;
  pending: boolean;
  /** The zone the schedule fires in (already checked), or null when it is not valid. */
  timeZone: string | null;
}

/** Return the server's messages in one line ("cron: ..."). */
function messageOf(errors: ApiErrorItem[]): string {
  return errors.map((e) => e.message).join('; ');
}

export function SchedulePreview({ preview, pending, timeZone }: SchedulePreviewProps) {
  if (preview.status === 'error') {
    return (
      <div className="schedule-preview is-error" aria-live="polite">
        <p className="field-error" role="alert" data-testid="schedule-preview-error">
          {messageOf(preview.errors)}
        </p>
      </div>
    );
  }
  const next = preview.status === 'ready' ? preview.next : preview.status === 'loading' ? preview.next : null;
  if (next === null || timeZone === null) {
    return (
      <div className="schedule-preview" aria-live="polite">
        <p className="hint" data-testid="schedule-preview-waiting">
          {pending ? 'Working out the next fire times…' : 'The next fire times show here as you type.'}
        </p>
      </div>
    );
  }
  const local = localTimeZone();
  const seconds = hasSeconds(next);
  const both = local !== timeZone;
  return (
    <div className={`schedule-preview${pending ? ' is-pending' : ''}`} aria-live="polite" aria-busy={pending} data-testid="schedule-preview">
      <table className="schedule-times">
        <caption className="small muted">Next {next.length} fire times{pending ? ' (updating…)' : ''}</caption>
        <thead>
          <tr>
            <th scope="col">{timeZone}</th>
            {both ? <th scope="col">Your time ({local})</th> : null}
          </tr>
        </thead>
        <tbody>
          {next.map((iso) => (
            <tr key={iso} data-testid="schedule-preview-time" data-at={iso}>
              <td>{formatSlot(iso, timeZone, { seconds })}</td>
              {both ? <td className="muted">{formatSlot(iso, local, { seconds })}</td> : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
