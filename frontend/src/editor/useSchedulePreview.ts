/** Ask the server for the next fire times of an unsaved timetable once the user stops typing. */

import { useEffect, useState } from 'react';
import { isAbortError } from '../api/client';
import { previewTimetable, type TimetableInput } from '../api/schedules';
import type { ApiErrorItem } from '../api/types';
import { useDebouncedValue } from '../hooks/useDebouncedValue';
import { errorItems } from '../ui/ErrorList';

export type Preview =
  | { status: 'idle' }
  | { status: 'loading'; next: string[] | null } // the previous answer while the new one comes
  | { status: 'ready'; next: string[] }
  | { status: 'error'; errors: ApiErrorItem[] };

export const PREVIEW_DELAY_MS = 350;

/**
 * Return the preview of `timetable` (null: nothing to ask, the form knows it is bad)
 * and whether it is behind what is typed (the debounce or the request is pending).
 */
export function useSchedulePreview(timetable: TimetableInput | null): { preview: Preview; pending: boolean } {
  // A string, so a new object with the same fields asks nothing new.
  const key = timetable === null ? '' : JSON.stringify(timetable);
  const asked = useDebouncedValue(key, PREVIEW_DELAY_MS);
  const [preview, setPreview] = useState<Preview>({ status: 'idle' });

  useEffect(() => {
    if (asked === '') {
      setPreview({ status: 'idle' });
      return undefined;
    }
    const controller = new AbortController();
    setPreview((prev) => ({ status: 'loading', next: prev.status === 'ready' || prev.status === 'loading' ? prev.next : null }));
    previewTimetable(JSON.parse(asked) as TimetableInput, controller.signal).then(
      (answer) => setPreview({ status: 'ready', next: answer.next }),
      (error: unknown) => {
        if (!isAbortError(error)) setPreview({ status: 'error', errors: errorItems(error) });
      },
    );
    return () => controller.abort();
  }, [asked]);

  return { preview, pending: key !== asked || preview.status === 'loading' };
}
